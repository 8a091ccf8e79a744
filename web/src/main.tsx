import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App.tsx';
import { ConfigProvider } from './app/config.tsx';
import { SessionProvider } from './auth/session.tsx';
import { EventsProvider } from './events/EventsProvider.tsx';
import './styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ConfigProvider>
      <SessionProvider>
        <EventsProvider>
          <App />
        </EventsProvider>
      </SessionProvider>
    </ConfigProvider>
  </StrictMode>,
);
