/** The most items a page may hold, whatever the caller asks for. */
export const MAX_PAGE_SIZE = 100;

export interface Page<T, C> {
  items: T[];
  next: C | null;
}
