/** SFMC attribute sets, written as `{ [set]: { [attribute]: value } }` in tests. */
export type AttributeValues = Record<string, unknown>;

/** The wire form: `[{ name, items: [{ values: [{ name, value }] }] }]`, in the order given. */
export function attributeSets(sets: Record<string, AttributeValues>) {
  return Object.entries(sets).map(([name, values]) => ({
    name,
    items: [{ values: Object.entries(values).map(([n, value]) => ({ name: n, value })) }],
  }));
}

/** A `POST`/`PATCH /contacts/v1/contacts` body. */
export function contactBody(contactKey: string, sets: Record<string, AttributeValues>) {
  return { contactKey, attributeSets: attributeSets(sets) };
}
