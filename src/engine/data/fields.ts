import { DataError, type Source, typeName } from './errors.js';
import type { RawRow } from './records.js';

// Reading one field of a row, with the errors that name the field, the line and what was expected.

/** Where a field is: the row, and for CSV/TSV its column. */
export function at(row: RawRow, name: string): Source {
  const column = row.column(name);
  return column === undefined ? row.source : { ...row.source, column };
}

export function present(row: RawRow, name: string, key: string): unknown {
  const v = row.get(name);
  if (v === undefined) {
    const fields = row.fields();
    const near = fields.find((f) => f.trim().toLowerCase() === name.toLowerCase());
    throw new DataError(
      'missing-column',
      `no '${name}' field (fields: ${fields.join(', ') || 'none'})${near === undefined ? '' : `; did you mean '${near}'?`}`,
      row.source,
      `a '${name}' field (${key})`,
    );
  }
  return v;
}

export function text(row: RawRow, name: string, key: string): string {
  const v = present(row, name, key);
  if (typeof v !== 'string')
    throw new DataError('wrong-type', `'${name}' is ${typeName(v)}`, at(row, name), 'a string');
  if (v.trim() === '') throw new DataError('empty-text', `'${name}' is empty`, at(row, name), 'non-empty text');
  return v;
}
