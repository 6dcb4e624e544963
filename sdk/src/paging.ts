/** Page size for the Relay connections the SDK walks (the API allows 1..100). */
export interface PageOptions {
  /**
   * Items per request (default 20, as the API). A job with its images and clip costs about 135 of the
   * tier's query budget, so pages of jobs above 37 exceed FREE's 5,000 (QUERY_TOO_COMPLEX).
   */
  pageSize?: number;
}

interface Connection<T> {
  edges: { node: T }[];
  pageInfo: { endCursor: string | null; hasNextPage: boolean };
}

/** Walks a Relay connection page by page, yielding its nodes. */
export async function* pages<T>(options: PageOptions, fetchPage: (first: number, after: string | null) => Promise<Connection<T>>): AsyncGenerator<T> {
  let after: string | null = null;
  for (;;) {
    const page: Connection<T> = await fetchPage(options.pageSize ?? 20, after);
    for (const edge of page.edges) yield edge.node;
    if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) return;
    after = page.pageInfo.endCursor;
  }
}
