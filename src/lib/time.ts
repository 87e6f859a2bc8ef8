// Time as plain milliseconds: cores receive `now` and never read a clock themselves (DESIGN.md §2).
export type Millis = number
