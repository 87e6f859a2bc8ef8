// A transport address as cores see it.
export interface Endpoint { readonly address: string; readonly port: number }
