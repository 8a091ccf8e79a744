-- Files: the bookkeeping that keeps storage and rows in step.
--   file_uploads       objects being written right now (the orphan sweep leaves them alone)
--   storage_deletions  objects whose rows are gone (or that are infected) but which the
--                      store has not yet confirmed deleted; retried until it does
--   file_scan_jobs     the virus-scan queue (FOR UPDATE SKIP LOCKED, with backoff)
--   file_job_leases    "one instance at a time" for the cleanup job, without holding a
--                      connection (PGlite has only one)
-- None of these is granted to auralink_app: user traffic reaches them only through
-- the SECURITY DEFINER triggers below, in the same transaction as the files row.

CREATE TABLE file_uploads (
  storage_bucket text NOT NULL,
  storage_path   text NOT NULL,
  started_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (storage_bucket, storage_path)
);

CREATE TABLE storage_deletions (
  deletion_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  storage_bucket  text NOT NULL,
  storage_path    text NOT NULL,
  reason          text NOT NULL CHECK (length(reason) <= 64),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text CHECK (length(last_error) <= 1000),
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (storage_bucket, storage_path)
);
CREATE INDEX storage_deletions_due_idx ON storage_deletions (next_attempt_at);

CREATE TABLE file_scan_jobs (
  file_id         uuid PRIMARY KEY REFERENCES files (file_id) ON DELETE CASCADE,
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  locked_until    timestamptz,
  last_error      text CHECK (length(last_error) <= 1000),
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX file_scan_jobs_due_idx ON file_scan_jobs (next_attempt_at);

CREATE TABLE file_job_leases (
  name       text PRIMARY KEY,
  holder     text NOT NULL,
  expires_at timestamptz NOT NULL
);

ALTER TABLE file_uploads ENABLE ROW LEVEL SECURITY;
ALTER TABLE storage_deletions ENABLE ROW LEVEL SECURITY;
ALTER TABLE file_scan_jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE file_job_leases ENABLE ROW LEVEL SECURITY;

-- One object per row: the orphan sweep and the deletion queue rely on it.
CREATE UNIQUE INDEX files_storage_object_key ON files (storage_bucket, storage_path);

-- A new files row ends its upload record and, when pending, queues its scan, in the
-- same transaction: a committed row is always either scanned or queued.
CREATE FUNCTION app.files_after_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  DELETE FROM file_uploads WHERE storage_bucket = NEW.storage_bucket AND storage_path = NEW.storage_path;
  IF NEW.scan_status = 'pending' THEN
    INSERT INTO file_scan_jobs (file_id) VALUES (NEW.file_id) ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER files_after_insert AFTER INSERT ON files FOR EACH ROW EXECUTE FUNCTION app.files_after_insert();

-- Every way a files row goes (user delete, expiry, a deleted call's cascade) queues
-- its object for deletion in the same transaction, so no object outlives its row
-- unnoticed and no row is left pointing at a deleted object.
CREATE FUNCTION app.files_after_delete() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO storage_deletions (storage_bucket, storage_path, reason)
  VALUES (OLD.storage_bucket, OLD.storage_path, 'file_deleted')
  ON CONFLICT (storage_bucket, storage_path) DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER files_after_delete AFTER DELETE ON files FOR EACH ROW EXECUTE FUNCTION app.files_after_delete();

REVOKE ALL ON file_uploads, storage_deletions, file_scan_jobs, file_job_leases FROM PUBLIC;
