// Parameters of one statement, numbered as they are added, with the optional filters
// that are present. Only those filters appear in the SQL text, so each combination is
// a statement of its own: its prepared (generic) plan can use a cursor or a range as
// an index condition, which a catch-all `($n IS NULL OR col < $n)` never can.
export class Params {
  readonly values: unknown[];
  private readonly conditions: string[] = [];

  constructor(...initial: unknown[]) {
    this.values = [...initial];
  }

  /** Adds a value; returns its placeholder ($n). */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  /** Adds a condition built from placeholders; skipped when `present` is false. */
  where(present: unknown, condition: () => string): this {
    if (present !== null && present !== undefined && present !== false) this.conditions.push(condition());
    return this;
  }

  /** The conditions joined for a WHERE clause, each prefixed by AND ('' when none). */
  and(): string {
    return this.conditions.map((c) => ` AND ${c}`).join('');
  }
}
