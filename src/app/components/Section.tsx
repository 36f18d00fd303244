import type { ReactNode } from 'react';

export function Section({ title, step, children }: { title: string; step: number; children: ReactNode }) {
  const id = `section-${step}`;
  return (
    <section className="card" aria-labelledby={id}>
      <h2 id={id}>
        <span className="step">{step}</span> {title}
      </h2>
      {children}
    </section>
  );
}

export function Busy({ text }: { text: string | null }) {
  return text ? (
    <p className="busy" role="status">
      {text}
    </p>
  ) : null;
}

export function ErrorText({ text }: { text: string | null }) {
  return text ? (
    <p className="notice error" role="alert">
      {text}
    </p>
  ) : null;
}

/** A table's column headings, one `<th scope="col">` each. */
export function ColumnHeads({ columns }: { columns: readonly string[] }) {
  return (
    <thead>
      <tr>
        {columns.map((c) => (
          <th key={c} scope="col">
            {c}
          </th>
        ))}
      </tr>
    </thead>
  );
}
