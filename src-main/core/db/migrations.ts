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
  {
    version: 2,
    description: 'corpus: source files, cleaned documents, chunks with provenance, MinHash LSH bands, import settings',
    up(db) {
      db.exec(`
        CREATE TABLE corpus_settings (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          settings_json TEXT NOT NULL
        );
        CREATE TABLE corpus_files (
          id INTEGER PRIMARY KEY,
          path TEXT NOT NULL UNIQUE,
          format TEXT,
          size_bytes INTEGER NOT NULL,
          mtime_ms INTEGER NOT NULL,
          content_sha256 TEXT,
          status TEXT NOT NULL CHECK (status IN ('importing', 'imported', 'empty', 'failed', 'skipped')),
          reason TEXT,
          warnings_json TEXT,
          updated_at_ms INTEGER NOT NULL
        );
        CREATE INDEX corpus_files_by_status ON corpus_files (status, id);
        CREATE TABLE documents (
          id INTEGER PRIMARY KEY,
          file_id INTEGER NOT NULL REFERENCES corpus_files (id) ON DELETE CASCADE,
          locator TEXT NOT NULL,
          title TEXT,
          text TEXT NOT NULL,
          text_sha256 TEXT NOT NULL,
          char_count INTEGER NOT NULL,
          token_count INTEGER NOT NULL DEFAULT 0,
          segments_json TEXT NOT NULL,
          duplicate_of INTEGER REFERENCES documents (id) ON DELETE SET NULL,
          kept_by_user INTEGER NOT NULL DEFAULT 0,
          UNIQUE (file_id, locator)
        );
        CREATE INDEX documents_by_hash ON documents (text_sha256);
        CREATE INDEX documents_by_duplicate_of ON documents (duplicate_of) WHERE duplicate_of IS NOT NULL;
        CREATE TABLE chunks (
          id INTEGER PRIMARY KEY,
          document_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
          ordinal INTEGER NOT NULL,
          char_start INTEGER NOT NULL,
          char_end INTEGER NOT NULL,
          text TEXT NOT NULL,
          token_count INTEGER NOT NULL,
          page_start INTEGER,
          page_end INTEGER,
          section TEXT,
          text_hash BLOB NOT NULL,
          minhash BLOB,
          duplicate_of INTEGER REFERENCES chunks (id) ON DELETE SET NULL,
          duplicate_kind TEXT CHECK (duplicate_kind IN ('exact', 'near')),
          similarity REAL,
          kept_by_user INTEGER NOT NULL DEFAULT 0,
          UNIQUE (document_id, ordinal)
        );
        CREATE INDEX chunks_by_hash ON chunks (text_hash);
        CREATE INDEX chunks_by_duplicate_of ON chunks (duplicate_of) WHERE duplicate_of IS NOT NULL;
        CREATE TABLE chunk_lsh (
          band_key INTEGER NOT NULL,
          chunk_id INTEGER NOT NULL,
          PRIMARY KEY (band_key, chunk_id)
        ) WITHOUT ROWID;
      `)
    },
  },
  {
    version: 3,
    description: 'reading comprehension: mined RC texts, generated QA pairs and their outcomes, chunk embeddings, clusters',
    up(db) {
      db.exec(`
        CREATE TABLE rc_texts (
          chunk_id INTEGER PRIMARY KEY REFERENCES chunks (id) ON DELETE CASCADE,
          seed INTEGER NOT NULL,
          text TEXT NOT NULL,
          task_count INTEGER NOT NULL,
          tasks_json TEXT NOT NULL
        );
        CREATE TABLE qa_generations (
          chunk_id INTEGER PRIMARY KEY REFERENCES chunks (id) ON DELETE CASCADE,
          generator TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('ok', 'unparsable', 'timeout', 'error')),
          raw_output TEXT NOT NULL,
          error TEXT,
          prompt_tokens INTEGER NOT NULL,
          output_tokens INTEGER NOT NULL,
          elapsed_ms INTEGER NOT NULL,
          created_at_ms INTEGER NOT NULL
        );
        CREATE INDEX qa_generations_by_status ON qa_generations (status);
        CREATE TABLE qa_pairs (
          id INTEGER PRIMARY KEY,
          chunk_id INTEGER NOT NULL REFERENCES chunks (id) ON DELETE CASCADE,
          document_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
          ordinal INTEGER NOT NULL,
          question TEXT NOT NULL,
          answer TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
          reject_reason TEXT,
          reject_detail TEXT,
          decided_by TEXT NOT NULL CHECK (decided_by IN ('filter', 'user')),
          edited INTEGER NOT NULL DEFAULT 0,
          UNIQUE (chunk_id, ordinal)
        );
        CREATE INDEX qa_pairs_by_document ON qa_pairs (document_id);
        CREATE INDEX qa_pairs_by_status ON qa_pairs (status, reject_reason);
        CREATE TABLE chunk_embeddings (
          chunk_id INTEGER PRIMARY KEY REFERENCES chunks (id) ON DELETE CASCADE,
          embedder TEXT NOT NULL,
          dimension INTEGER NOT NULL,
          vector BLOB NOT NULL
        );
        CREATE TABLE cluster_runs (
          id INTEGER PRIMARY KEY,
          kind TEXT NOT NULL CHECK (kind IN ('extend', 'kmeans')),
          embedder TEXT NOT NULL,
          params_json TEXT NOT NULL,
          members INTEGER NOT NULL,
          clusters INTEGER NOT NULL,
          created_at_ms INTEGER NOT NULL
        );
        CREATE TABLE cluster_members (
          run_id INTEGER NOT NULL REFERENCES cluster_runs (id) ON DELETE CASCADE,
          chunk_id INTEGER NOT NULL REFERENCES chunks (id) ON DELETE CASCADE,
          cluster INTEGER NOT NULL,
          position INTEGER NOT NULL,
          similarity REAL NOT NULL,
          PRIMARY KEY (run_id, chunk_id)
        ) WITHOUT ROWID;
        CREATE INDEX cluster_members_by_cluster ON cluster_members (run_id, cluster, position);
      `)
    },
  },
  {
    version: 4,
    description: 'exports of trained runs with their verification reports, and evaluations',
    up(db) {
      db.exec(`
        CREATE TABLE exports (
          id INTEGER PRIMARY KEY,
          job_id INTEGER NOT NULL UNIQUE REFERENCES jobs (id) ON DELETE CASCADE,
          run_id TEXT NOT NULL,
          format TEXT NOT NULL,
          type TEXT,
          path TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('running', 'verified', 'failed')),
          files_json TEXT NOT NULL DEFAULT '[]',
          verification_json TEXT,
          error TEXT,
          created_at_ms INTEGER NOT NULL,
          finished_at_ms INTEGER
        );
        CREATE INDEX exports_by_run ON exports (run_id, id);
        CREATE TABLE evaluations (
          id INTEGER PRIMARY KEY,
          job_id INTEGER NOT NULL UNIQUE REFERENCES jobs (id) ON DELETE CASCADE,
          run_id TEXT NOT NULL,
          report_json TEXT NOT NULL,
          created_at_ms INTEGER NOT NULL
        );
        CREATE INDEX evaluations_by_run ON evaluations (run_id, id);
      `)
    },
  },
  {
    version: 5,
    description: 'pipelines: chains of job requests run one after another, surviving restarts',
    up(db) {
      db.exec(`
        CREATE TABLE pipelines (
          id INTEGER PRIMARY KEY,
          steps_json TEXT NOT NULL,
          position INTEGER NOT NULL DEFAULT 0,
          job_ids_json TEXT NOT NULL DEFAULT '[]',
          state TEXT NOT NULL CHECK (state IN ('running', 'succeeded', 'stopped', 'cancelled')),
          error TEXT,
          created_at_ms INTEGER NOT NULL,
          updated_at_ms INTEGER NOT NULL
        );
      `)
    },
  },
]

export const LATEST_SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0
