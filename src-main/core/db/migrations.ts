import type { Database } from 'better-sqlite3'

export interface Migration {
  /** The schema version the database has after `up` ran. */
  version: number
  description: string
  up(db: Database): void
}

/**
 * Append-only: a released migration is never edited, a change is a new entry. Versions must run 1, 2, 3…
 * (checked by test/unit/core/db/migrations.test.ts).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'project row, persistent jobs and their logs',
    up(db) {
      db.exec(`
        CREATE TABLE project (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          name TEXT NOT NULL,
          created_at_ms INTEGER NOT NULL,
          created_by_version TEXT NOT NULL
        );
        CREATE TABLE jobs (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          kind TEXT NOT NULL,
          label TEXT NOT NULL,
          params_json TEXT NOT NULL,
          state TEXT NOT NULL
            CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
          progress_done REAL NOT NULL DEFAULT 0,
          progress_total REAL NOT NULL DEFAULT 0,
          progress_message TEXT,
          eta_seconds REAL,
          checkpoint_json TEXT,
          result_json TEXT,
          error_json TEXT,
          attempts INTEGER NOT NULL DEFAULT 0,
          cancel_requested INTEGER NOT NULL DEFAULT 0,
          owner TEXT,
          heartbeat_at_ms INTEGER,
          created_at_ms INTEGER NOT NULL,
          started_at_ms INTEGER,
          finished_at_ms INTEGER,
          updated_at_ms INTEGER NOT NULL
        );
        CREATE INDEX jobs_by_state ON jobs (state, id);
        CREATE TABLE job_logs (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
          at_ms INTEGER NOT NULL,
          level TEXT NOT NULL CHECK (level IN ('info', 'warn', 'error')),
          message TEXT NOT NULL
        );
        CREATE INDEX job_logs_by_job ON job_logs (job_id, id);
      `)
    },
  },
]

export const LATEST_SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0
