/* The TUN reader: a native thread poll()s the fd, reads every ready packet into one batch and hands
 * the batch to JS through a napi_threadsafe_function — one event-loop crossing per batch, not per
 * packet. Stop wakes the thread through an eventfd and joins it. */
#define _GNU_SOURCE
#include "common.h"
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define DEFAULT_MAX_BATCH 256
#define DEFAULT_MAX_PACKET 65535
#define MAX_QUEUE 64 /* batches waiting for the JS thread; beyond it the kernel queue absorbs/drops */

typedef struct {
  int fd;
  int wake_fd;
  pthread_t thread;
  atomic_int stop;
  napi_threadsafe_function tsfn;
  uint32_t max_batch;
  size_t max_packet;
  size_t arena_size;
  /* Main-thread state. refs: one for the JS handle, one for the tsfn; freed at zero. */
  int refs;
  int stopped;
  /* Strong reference to the JS handle while running: like an active socket, a running reader
   * must not be stopped by the garbage collector just because its handle was dropped. */
  napi_ref self_ref;
  /* Reader-thread statistics, read by readerStats() (relaxed atomics: monitoring only). */
  atomic_ullong st_wakeups, st_packets, st_batches, st_queue_full;
} Reader;

typedef struct {
  uint8_t *data;    /* exactly `used` bytes, malloc'd; ownership moves to the ArrayBuffer */
  size_t used;
  uint32_t count;
  int err;          /* non-zero: an error batch (errno), `syscall` names the call */
  const char *syscall;
  uint32_t lens[];  /* count entries */
} Batch;

static void reader_unref(Reader *r) {
  if (--r->refs == 0) free(r);
}

static void free_batch(Batch *b) {
  if (b == NULL) return;
  free(b->data);
  free(b);
}

static void finalize_arena(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  free(data);
}

/* A throw from the JS callback is our bug, not the peer's: raise it as an uncaught exception
 * (process 'uncaughtException') instead of letting N-API's legacy policy swallow it. */
static void call_cb(napi_env env, napi_value cb, size_t argc, const napi_value *argv) {
  napi_value undef;
  napi_get_undefined(env, &undef);
  if (napi_call_function(env, undef, cb, argc, argv, NULL) == napi_pending_exception) {
    napi_value exc;
    if (napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
  }
}

/* Runs on the JS thread. env == NULL when the tsfn is being torn down: only free. */
static void call_js(napi_env env, napi_value js_cb, void *context, void *data) {
  Reader *r = context;
  Batch *b = data;
  if (env == NULL || js_cb == NULL || r->stopped) { free_batch(b); return; }
  napi_value undef, argv[3];
  napi_get_undefined(env, &undef);
  if (b->err != 0) {
    argv[0] = gh_make_errno_error(env, b->err, b->syscall, "on TUN fd");
    free_batch(b);
    if (argv[0] != NULL) call_cb(env, js_cb, 1, argv);
    return;
  }
  napi_value ab, lens_ab;
  void *lens_ptr;
  /* Zero-copy hand-over of the batch bytes; builds that forbid external buffers get a copy. */
  if (napi_create_external_arraybuffer(env, b->data, b->used, finalize_arena, NULL, &ab) == napi_ok) {
    b->data = NULL;
  } else {
    void *dst;
    if (napi_create_arraybuffer(env, b->used, &dst, &ab) != napi_ok) { free_batch(b); return; }
    memcpy(dst, b->data, b->used);
  }
  if (napi_create_arraybuffer(env, (size_t)b->count * 4, &lens_ptr, &lens_ab) != napi_ok) { free_batch(b); return; }
  memcpy(lens_ptr, b->lens, (size_t)b->count * 4);
  napi_create_typedarray(env, napi_uint32_array, b->count, lens_ab, 0, &argv[2]);
  argv[0] = undef;
  argv[1] = ab;
  free_batch(b);
  call_cb(env, js_cb, 3, argv);
}

static void tsfn_finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  reader_unref((Reader *)data);
}

/* Queues a batch for JS. Returns 0 when delivered, -1 when the reader must exit (stop/closing). */
static int deliver(Reader *r, Batch *b) {
  for (;;) {
    napi_status s = napi_call_threadsafe_function(r->tsfn, b, napi_tsfn_nonblocking);
    if (s == napi_ok) return 0;
    if (s != napi_queue_full || atomic_load(&r->stop)) { free_batch(b); return -1; }
    atomic_fetch_add_explicit(&r->st_queue_full, 1, memory_order_relaxed);
    /* The JS thread is behind: wait a little (or for stop) instead of queueing without bound.
     * Meanwhile the kernel's TUN queue (txqueuelen) holds or drops packets — IP is lossy. */
    struct pollfd w = { .fd = r->wake_fd, .events = POLLIN };
    poll(&w, 1, 1);
  }
}

static Batch *error_batch(int err, const char *syscall) {
  Batch *b = calloc(1, sizeof(Batch));
  if (b == NULL) return NULL;
  b->err = err;
  b->syscall = syscall;
  return b;
}

static void *reader_main(void *arg) {
  Reader *r = arg;
  uint8_t *scratch = malloc(r->arena_size);
  uint32_t *lens = malloc(sizeof(uint32_t) * r->max_batch);
  if (scratch == NULL || lens == NULL) {
    Batch *e = error_batch(ENOMEM, "malloc");
    if (e) deliver(r, e);
    goto out;
  }
  struct pollfd pfd[2] = { { .fd = r->fd, .events = POLLIN }, { .fd = r->wake_fd, .events = POLLIN } };
  while (!atomic_load(&r->stop)) {
    int n = poll(pfd, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      Batch *e = error_batch(errno, "poll");
      if (e) deliver(r, e);
      break;
    }
    if (pfd[1].revents) break;
    atomic_fetch_add_explicit(&r->st_wakeups, 1, memory_order_relaxed);
    if (pfd[0].revents & (POLLERR | POLLNVAL | POLLHUP)) {
      Batch *e = error_batch(pfd[0].revents & POLLNVAL ? EBADF : EIO, "poll");
      if (e) deliver(r, e);
      break;
    }
    if (!(pfd[0].revents & POLLIN)) continue;
    /* Drain what is ready, up to max_batch packets or until the scratch arena is full. */
    size_t used = 0;
    uint32_t count = 0;
    int read_err = 0;
    while (count < r->max_batch && r->arena_size - used >= r->max_packet) {
      ssize_t got = read(r->fd, scratch + used, r->max_packet);
      if (got < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) read_err = errno;
        break;
      }
      if (got == 0) break;
      lens[count++] = (uint32_t)got;
      used += (size_t)got;
    }
    if (count > 0) {
      Batch *b = malloc(sizeof(Batch) + sizeof(uint32_t) * count);
      uint8_t *data = malloc(used > 0 ? used : 1);
      if (b == NULL || data == NULL) { free(b); free(data); continue; } /* drop under memory pressure */
      memcpy(data, scratch, used);
      memcpy(b->lens, lens, sizeof(uint32_t) * count);
      b->data = data;
      b->used = used;
      b->count = count;
      b->err = 0;
      b->syscall = NULL;
      atomic_fetch_add_explicit(&r->st_packets, count, memory_order_relaxed);
      atomic_fetch_add_explicit(&r->st_batches, 1, memory_order_relaxed);
      if (deliver(r, b) < 0) break;
    }
    if (read_err != 0) {
      Batch *e = error_batch(read_err, "read");
      if (e) deliver(r, e);
      break;
    }
  }
out:
  free(scratch);
  free(lens);
  napi_release_threadsafe_function(r->tsfn, napi_tsfn_release);
  return NULL;
}

/* Main thread: stop the thread and wait for it. Safe to call twice. */
static void reader_stop(Reader *r) {
  if (r->stopped) return;
  r->stopped = 1;
  atomic_store(&r->stop, 1);
  uint64_t one = 1;
  ssize_t ignored = write(r->wake_fd, &one, sizeof one);
  (void)ignored;
  pthread_join(r->thread, NULL);
  close(r->wake_fd);
  r->wake_fd = -1;
}

static void handle_finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  Reader *r = data;
  reader_stop(r); /* a handle dropped without stop(): do not leave the thread behind */
  reader_unref(r);
}

static int get_reader(napi_env env, napi_value v, Reader **out) {
  if (napi_get_value_external(env, v, (void **)out) != napi_ok || *out == NULL) {
    gh_throw_type(env, "expected a reader handle");
    return 0;
  }
  return 1;
}

static uint32_t opt_u32(napi_env env, napi_value obj, const char *key, uint32_t def, uint32_t lo, uint32_t hi) {
  napi_valuetype t;
  if (obj == NULL || napi_typeof(env, obj, &t) != napi_ok || t != napi_object) return def;
  napi_value v;
  uint32_t out;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok) return def;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return def;
  if (napi_get_value_uint32(env, v, &out) != napi_ok) return def;
  return out < lo ? lo : out > hi ? hi : out;
}

/* startReader(fd, cb, { maxBatch?, maxPacket? }) -> handle.
 * cb(err) on a fatal fd error (the thread has exited), else cb(undefined, ArrayBuffer, Uint32Array
 * lengths): the packets lie back to back in the ArrayBuffer. */
static napi_value start_reader(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) return gh_throw_type(env, "startReader(fd, cb, opts?)");
  int32_t fd;
  if (!gh_arg_i32(env, argv[0], "fd", &fd)) return NULL;
  napi_valuetype t;
  napi_typeof(env, argv[1], &t);
  if (t != napi_function) return gh_throw_type(env, "cb must be a function");
  Reader *r = calloc(1, sizeof(Reader));
  if (r == NULL) return gh_throw_errno(env, ENOMEM, "calloc", NULL);
  r->fd = fd;
  r->max_batch = opt_u32(env, argc > 2 ? argv[2] : NULL, "maxBatch", DEFAULT_MAX_BATCH, 1, 4096);
  r->max_packet = opt_u32(env, argc > 2 ? argv[2] : NULL, "maxPacket", DEFAULT_MAX_PACKET, 576, 65535);
  /* Room for a full batch of MTU-sized packets, and at least one maximal read. */
  r->arena_size = (size_t)r->max_batch * 2048;
  if (r->arena_size < r->max_packet * 2) r->arena_size = r->max_packet * 2;
  r->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (r->wake_fd < 0) { int e = errno; free(r); return gh_throw_errno(env, e, "eventfd", NULL); }
  napi_value name;
  napi_create_string_utf8(env, "gatehouse.tunReader", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[1], NULL, name, MAX_QUEUE, 1, r, tsfn_finalize, r, call_js, &r->tsfn) != napi_ok) {
    close(r->wake_fd);
    free(r);
    return NULL; /* N-API left an exception pending */
  }
  r->refs = 2;
  int e = pthread_create(&r->thread, NULL, reader_main, r);
  if (e != 0) {
    r->stopped = 1;
    close(r->wake_fd);
    napi_release_threadsafe_function(r->tsfn, napi_tsfn_abort);
    reader_unref(r); /* the tsfn finalizer drops the other ref */
    return gh_throw_errno(env, e, "pthread_create", NULL);
  }
  napi_value handle;
  if (napi_create_external(env, r, handle_finalize, NULL, &handle) != napi_ok) {
    reader_stop(r);
    reader_unref(r);
    return NULL;
  }
  napi_create_reference(env, handle, 1, &r->self_ref);
  return handle;
}

/* stopReader(handle): joins the thread; no callback runs after it returns. Also required after an
 * error callback (the thread has exited; this joins it and releases the handle). */
static napi_value stop_reader(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Reader *r;
  if (argc < 1 || !get_reader(env, argv[0], &r)) return NULL;
  reader_stop(r);
  if (r->self_ref != NULL) { napi_delete_reference(env, r->self_ref); r->self_ref = NULL; }
  return NULL;
}

/* refReader(handle, ref: boolean): whether a running reader keeps the event loop alive (default yes). */
static napi_value ref_reader(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Reader *r;
  if (argc < 2 || !get_reader(env, argv[0], &r)) return NULL;
  bool ref = true;
  napi_get_value_bool(env, argv[1], &ref);
  if (!r->stopped) {
    if (ref) napi_ref_threadsafe_function(env, r->tsfn);
    else napi_unref_threadsafe_function(env, r->tsfn);
  }
  return NULL;
}

/* readerStats(handle) -> { wakeups, packets, batches, queueFull } as seen by the reader thread. */
static napi_value reader_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Reader *r;
  if (argc < 1 || !get_reader(env, argv[0], &r)) return NULL;
  napi_value obj, v;
  napi_create_object(env, &obj);
  napi_create_double(env, (double)atomic_load(&r->st_wakeups), &v); napi_set_named_property(env, obj, "wakeups", v);
  napi_create_double(env, (double)atomic_load(&r->st_packets), &v); napi_set_named_property(env, obj, "packets", v);
  napi_create_double(env, (double)atomic_load(&r->st_batches), &v); napi_set_named_property(env, obj, "batches", v);
  napi_create_double(env, (double)atomic_load(&r->st_queue_full), &v); napi_set_named_property(env, obj, "queueFull", v);
  return obj;
}

napi_status gh_init_reader(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "startReader", NULL, start_reader, NULL, NULL, NULL, napi_enumerable, NULL },
    { "stopReader", NULL, stop_reader, NULL, NULL, NULL, napi_enumerable, NULL },
    { "refReader", NULL, ref_reader, NULL, NULL, NULL, napi_enumerable, NULL },
    { "readerStats", NULL, reader_stats, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
