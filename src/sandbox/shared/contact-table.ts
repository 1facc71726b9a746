/**
 * A sandbox's contacts by id, in the order they were first stored, handed out as copies (changing
 * one changes nothing stored): the reads every such sandbox store shares.
 */
export abstract class ContactTable<C> {
  protected contacts = new Map<string, C>();

  /** A copy of `contact` that shares nothing with it (`structuredClone` unless overridden). */
  protected copy(contact: C): C {
    return structuredClone(contact);
  }

  /** Number of stored contacts. */
  get size(): number {
    return this.contacts.size;
  }

  /** A copy of the contact stored under `id`, or undefined. */
  get(id: string): C | undefined {
    const contact = this.contacts.get(id);
    return contact === undefined ? undefined : this.copy(contact);
  }

  /** Copies of every contact, oldest first. */
  all(): C[] {
    return [...this.contacts.values()].map((c) => this.copy(c));
  }
}
