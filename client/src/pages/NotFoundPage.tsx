import { Link } from 'react-router';

export function NotFoundPage() {
  return (
    <section className="card narrow">
      <h1>Page not found</h1>
      <p>There is nothing at this address. <Link to="/">Go to the generator</Link>.</p>
    </section>
  );
}
