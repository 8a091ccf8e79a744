import { Component, type ReactNode } from 'react';
import { useSession } from '../auth/session.tsx';
import { SignInPage } from '../auth/SignInPage.tsx';
import { RoomPage } from '../call/RoomPage.tsx';
import { useEventStatus } from '../events/EventsProvider.tsx';
import { GuestJoinPage } from '../join/GuestJoinPage.tsx';
import { RoomsPage } from '../rooms/RoomsPage.tsx';
import { ErrorMessage } from '../ui/ErrorMessage.tsx';
import { AdminCallsPage } from '../admin/AdminCallsPage.tsx';
import { OverviewPage } from '../admin/OverviewPage.tsx';
import { CallPage } from '../history/CallPage.tsx';
import { HistoryPage } from '../history/HistoryPage.tsx';
import { useIsOperator } from './operator.ts';
import { Link, match, usePath } from './router.tsx';

export function App() {
  const path = usePath();
  // The invite link's own URL (/api/v1/join/<code>) and the short form both open the guest page.
  const join = match('/api/v1/join/:code', path) ?? match('/join/:code', path);
  return (
    <>
      <a className="skip-link" href="#content">
        Skip to content
      </a>
      <Header guest={join !== null} />
      <div id="content" tabIndex={-1}>
        <Boundary key={path}>{join ? <GuestJoinPage code={join.code!} /> : <SignedInRoutes path={path} />}</Boundary>
      </div>
    </>
  );
}

function SignedInRoutes({ path }: { path: string }) {
  const { me, loading, error, reload } = useSession();
  if (error) {
    return (
      <main className="page narrow">
        <ErrorMessage error={error} onRetry={reload} />
      </main>
    );
  }
  if (!me) return loading ? <p className="loading">Loading…</p> : <SignInPage />;
  const room = match('/rooms/:id', path);
  if (room) return <RoomPage key={room.id} roomId={room.id!} />;
  if (path === '/' || path === '/rooms' || path === '/sign-in') return <RoomsPage />;
  if (path === '/calls') return <HistoryPage />;
  const call = match('/calls/:id', path);
  if (call) return <CallPage key={call.id} callId={call.id!} />;
  if (path === '/admin' || path.startsWith('/admin/')) return <OperatorRoutes path={path} />;
  return <NotFound />;
}

/** Operator pages exist only for operators: anyone else gets the ordinary "not found". */
function OperatorRoutes({ path }: { path: string }) {
  const operator = useIsOperator();
  if (operator === null) return <p className="loading">Loading…</p>;
  if (!operator) return <NotFound />;
  if (path === '/admin') return <OverviewPage />;
  if (path === '/admin/calls') return <AdminCallsPage />;
  const call = match('/admin/calls/:id', path);
  if (call) return <CallPage key={call.id} callId={call.id!} operator />;
  return <NotFound />;
}

function NotFound() {
  return (
    <main className="page narrow">
      <h1>Not found</h1>
      <p>
        Nothing lives at this address. <Link href="/">Go to your rooms</Link>.
      </p>
    </main>
  );
}

function Header({ guest }: { guest: boolean }) {
  const { me, signOut } = useSession();
  const status = useEventStatus();
  const operator = useIsOperator();
  return (
    <header className="topbar">
      <Link href="/" className="brand" aria-label="AuraLink home">
        <span className="logo" aria-hidden="true" />
        AuraLink
      </Link>
      {me && !guest && (
        <nav className="mainnav" aria-label="Main">
          <Link href="/">Rooms</Link>
          <Link href="/calls" data-testid="nav-history">
            History
          </Link>
          {operator && (
            <Link href="/admin" data-testid="nav-operator">
              Operator
            </Link>
          )}
        </nav>
      )}
      {me && (
        <div className="row">
          <span className={`live live-${status}`} data-testid="event-stream-status" title={`Live updates: ${status}`}>
            <span className="sr-only">Live updates: </span>
            {status === 'open' ? 'Live' : status === 'stopped' ? 'Offline' : 'Reconnecting…'}
          </span>
          <span className="who" data-testid="signed-in-user">
            {me.display_name ?? me.username ?? 'You'}
            {me.aura_id && <span className="muted"> {me.aura_id}</span>}
          </span>
          {!guest && (
            <button type="button" className="button small ghost" onClick={signOut} data-testid="sign-out">
              Sign out
            </button>
          )}
        </div>
      )}
    </header>
  );
}

/** A render error becomes a visible message, never a blank page. */
class Boundary extends Component<{ children: ReactNode }, { error: unknown }> {
  override state = { error: null as unknown };
  static getDerivedStateFromError(error: unknown) {
    return { error };
  }
  override render() {
    if (this.state.error) {
      return (
        <main className="page narrow">
          <ErrorMessage error={this.state.error} onRetry={() => this.setState({ error: null })} />
        </main>
      );
    }
    return this.props.children;
  }
}
