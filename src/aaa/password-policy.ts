// Password policy for locally stored users: length, character classes, user name (3+ characters),
// common passwords.
// The message names every rule that failed so an administrator can fix the password in one try.

export interface PasswordPolicy {
  /** Minimum length in characters (default 12). */
  readonly minLength?: number
  /** How many of the 4 classes (lower, upper, digit, symbol) must appear (default 3). */
  readonly minClasses?: number
}

export const DEFAULT_PASSWORD_POLICY = { minLength: 12, minClasses: 3 } as const

// A short list of the passwords that top every breach corpus; compared case-insensitively.
// Anything here is refused even if it happens to meet the length and class rules.
const COMMON = new Set([
  'password', 'password1', 'password12', 'password123', 'password1234', 'passw0rd', 'p@ssw0rd',
  'p@ssword123', 'p@ssw0rd123', 'p@ssw0rd1234', 'password123!', 'password!123', 'passw0rd123!',
  '123456', '1234567', '12345678', '123456789', '1234567890', '123456789012', 'qwerty', 'qwerty123',
  'qwertyuiop', 'qwerty123456', 'qwerty12345!', 'abc123', 'abcd1234', 'abc123456789', 'iloveyou',
  'letmein', 'letmein123!', 'welcome', 'welcome1', 'welcome123', 'welcome123!', 'welcome2024!',
  'admin', 'admin123', 'administrator', 'administrator1', 'changeme', 'changeme123', 'changeme123!',
  'trustno1', 'monkey', 'dragon', 'football', 'baseball', 'sunshine', 'princess', 'starwars',
  'summer2024!', 'winter2024!', 'spring2024!', 'autumn2024!', 'summer2025!', 'winter2025!',
  'football123', 'superman123', 'master123', 'secret123', 'correcthorsebatterystaple',
])

function classCount(pw: string): number {
  let lower = 0, upper = 0, digit = 0, symbol = 0
  for (const ch of pw) {
    if (/\p{Ll}/u.test(ch)) lower = 1
    else if (/\p{Lu}/u.test(ch)) upper = 1
    else if (/\p{Nd}/u.test(ch)) digit = 1
    else symbol = 1
  }
  return lower + upper + digit + symbol
}

/**
 * Checks `password` for `user` against the policy. Never throws; the message never contains the
 * password. Length counts Unicode code points, not UTF-16 units.
 */
export function checkPasswordPolicy(password: string, user: string, policy: PasswordPolicy = {}): { ok: true } | { ok: false; message: string } {
  const minLength = policy.minLength ?? DEFAULT_PASSWORD_POLICY.minLength
  const minClasses = Math.min(4, policy.minClasses ?? DEFAULT_PASSWORD_POLICY.minClasses)
  const problems: string[] = []
  const length = [...password].length
  if (length < minLength) problems.push(`be at least ${minLength} characters (got ${length})`)
  const classes = classCount(password)
  if (classes < minClasses) problems.push(`mix ${minClasses} of: lower case, upper case, digits, symbols (got ${classes})`)
  // Like Windows' complexity rule, names under 3 characters are not checked: "al" would otherwise
  // forbid every password containing those two letters.
  if ([...user].length >= 3 && password.toLowerCase().includes(user.toLowerCase())) problems.push('not contain the user name')
  if (COMMON.has(password.toLowerCase())) problems.push('not be a commonly used password')
  if (problems.length === 0) return { ok: true }
  return { ok: false, message: `password must ${joinAnd(problems)}` }
}

function joinAnd(parts: readonly string[]): string {
  if (parts.length <= 1) return parts.join('')
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`
}
