import Foundation

/// Optuna's relational tables (`RDBStorage`), created exactly as Optuna 5.x creates them: the
/// same tables, columns, types, constraints and indexes, the schema version Optuna checks
/// (`alembic_version` 'v3.2.0.a', unchanged from Optuna 3.2 to 5.x) and `version_info`
/// (schema 12), so that `optuna.load_study` opens them without `optuna storage upgrade`.
/// Tests/Harness/interop_check.py compares them with the tables Optuna itself creates.
enum OptunaSchema {
    static let alembicVersion = "v3.2.0.a"
    static let schemaVersion = 12
    /// The Optuna version written into `version_info` by a database this toolchain creates.
    static let libraryVersion = "5.0.0"

    /// Creates the tables when absent; refuses a database of another schema version, naming it.
    static func prepare(_ connection: SQLConnection, postgres: Bool) throws {
        // Another process may be making the tables at this moment without our lock (Optuna's
        // own create_all): what it has made shows as an object that already exists, or as
        // tables without their version row yet. Both are looked at again for up to 10 s.
        var attempt = 0
        while true {
            attempt += 1
            do {
                let exists = postgres
                    ? try connection.query("SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'alembic_version'")
                    : try connection.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'")
                if exists.isEmpty {
                    try connection.execute(script: postgres ? Self.postgres : Self.sqlite)
                }
                let versions = try connection.query("SELECT version_num FROM alembic_version").compactMap { $0.first?.text }
                if versions.isEmpty, attempt < 50 {
                    usleep(200_000)
                    continue
                }
                guard versions == [alembicVersion] else {
                    throw SQLError(message: "holds Optuna tables of schema version \(versions.isEmpty ? "none" : versions.joined(separator: ", ")), "
                        + "not \(alembicVersion) (Optuna 3.2 to 5.x): upgrade it with `optuna storage upgrade`, or use another database")
                }
                return
            } catch let error as SQLError where ["42710", "42P07", "23505"].contains(error.state ?? "") && attempt < 50 {
                // 42710 a type, 42P07 a table, 23505 a catalog row: made by another process just now.
                connection.rollback()
                usleep(200_000)
            }
        }
    }

    /// The statements SQLAlchemy issues for Optuna's models on SQLite, with its version rows,
    /// in one transaction.
    static let sqlite = """
    BEGIN IMMEDIATE;
    CREATE TABLE IF NOT EXISTS studies (
    \tstudy_id INTEGER NOT NULL, 
    \tstudy_name VARCHAR(512) NOT NULL, 
    \tPRIMARY KEY (study_id)
    );
    CREATE UNIQUE INDEX IF NOT EXISTS ix_studies_study_name ON studies (study_name);
    CREATE TABLE IF NOT EXISTS version_info (
    \tversion_info_id INTEGER NOT NULL, 
    \tschema_version INTEGER, 
    \tlibrary_version VARCHAR(256), 
    \tPRIMARY KEY (version_info_id), 
    \tCHECK (version_info_id=1)
    );
    CREATE TABLE IF NOT EXISTS study_directions (
    \tstudy_direction_id INTEGER NOT NULL, 
    \tdirection VARCHAR(8) NOT NULL, 
    \tstudy_id INTEGER NOT NULL, 
    \tobjective INTEGER NOT NULL, 
    \tPRIMARY KEY (study_direction_id), 
    \tUNIQUE (study_id, objective), 
    \tFOREIGN KEY(study_id) REFERENCES studies (study_id)
    );
    CREATE TABLE IF NOT EXISTS study_user_attributes (
    \tstudy_user_attribute_id INTEGER NOT NULL, 
    \tstudy_id INTEGER, 
    \t"key" VARCHAR(512), 
    \tvalue_json TEXT, 
    \tPRIMARY KEY (study_user_attribute_id), 
    \tUNIQUE (study_id, "key"), 
    \tFOREIGN KEY(study_id) REFERENCES studies (study_id)
    );
    CREATE TABLE IF NOT EXISTS study_system_attributes (
    \tstudy_system_attribute_id INTEGER NOT NULL, 
    \tstudy_id INTEGER, 
    \t"key" VARCHAR(512), 
    \tvalue_json TEXT, 
    \tPRIMARY KEY (study_system_attribute_id), 
    \tUNIQUE (study_id, "key"), 
    \tFOREIGN KEY(study_id) REFERENCES studies (study_id)
    );
    CREATE TABLE IF NOT EXISTS trials (
    \ttrial_id INTEGER NOT NULL, 
    \tnumber INTEGER, 
    \tstudy_id INTEGER, 
    \tstate VARCHAR(8) NOT NULL, 
    \tdatetime_start DATETIME, 
    \tdatetime_complete DATETIME, 
    \tPRIMARY KEY (trial_id), 
    \tFOREIGN KEY(study_id) REFERENCES studies (study_id)
    );
    CREATE INDEX IF NOT EXISTS ix_trials_study_id ON trials (study_id);
    CREATE TABLE IF NOT EXISTS trial_user_attributes (
    \ttrial_user_attribute_id INTEGER NOT NULL, 
    \ttrial_id INTEGER, 
    \t"key" VARCHAR(512), 
    \tvalue_json TEXT, 
    \tPRIMARY KEY (trial_user_attribute_id), 
    \tUNIQUE (trial_id, "key"), 
    \tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)
    );
    CREATE TABLE IF NOT EXISTS trial_system_attributes (
    \ttrial_system_attribute_id INTEGER NOT NULL, 
    \ttrial_id INTEGER, 
    \t"key" VARCHAR(512), 
    \tvalue_json TEXT, 
    \tPRIMARY KEY (trial_system_attribute_id), 
    \tUNIQUE (trial_id, "key"), 
    \tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)
    );
    CREATE TABLE IF NOT EXISTS trial_params (
    \tparam_id INTEGER NOT NULL, 
    \ttrial_id INTEGER, 
    \tparam_name VARCHAR(512), 
    \tparam_value FLOAT, 
    \tdistribution_json TEXT, 
    \tPRIMARY KEY (param_id), 
    \tUNIQUE (trial_id, param_name), 
    \tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)
    );
    CREATE TABLE IF NOT EXISTS trial_values (
    \ttrial_value_id INTEGER NOT NULL, 
    \ttrial_id INTEGER NOT NULL, 
    \tobjective INTEGER NOT NULL, 
    \tvalue FLOAT, 
    \tvalue_type VARCHAR(7) NOT NULL, 
    \tPRIMARY KEY (trial_value_id), 
    \tUNIQUE (trial_id, objective), 
    \tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)
    );
    CREATE TABLE IF NOT EXISTS trial_intermediate_values (
    \ttrial_intermediate_value_id INTEGER NOT NULL, 
    \ttrial_id INTEGER NOT NULL, 
    \tstep INTEGER NOT NULL, 
    \tintermediate_value FLOAT, 
    \tintermediate_value_type VARCHAR(7) NOT NULL, 
    \tPRIMARY KEY (trial_intermediate_value_id), 
    \tUNIQUE (trial_id, step), 
    \tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)
    );
    CREATE TABLE IF NOT EXISTS trial_heartbeats (
    \ttrial_heartbeat_id INTEGER NOT NULL, 
    \ttrial_id INTEGER NOT NULL, 
    \theartbeat DATETIME NOT NULL, 
    \tPRIMARY KEY (trial_heartbeat_id), 
    \tUNIQUE (trial_id), 
    \tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)
    );
    CREATE TABLE IF NOT EXISTS alembic_version (
    \tversion_num VARCHAR(32) NOT NULL, 
    \tCONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
    );
    INSERT INTO version_info (version_info_id, schema_version, library_version)
    \tSELECT 1, \(schemaVersion), '\(libraryVersion)' WHERE NOT EXISTS (SELECT 1 FROM version_info);
    INSERT INTO alembic_version (version_num) SELECT '\(alembicVersion)' WHERE NOT EXISTS (SELECT 1 FROM alembic_version);
    COMMIT;
    """

    /// The same on PostgreSQL: serial keys, enum types for the states, directions and value
    /// types, timestamps without a time zone. Two workers creating them at once are serialised
    /// by an advisory lock.
    static let postgres = """
    BEGIN;
    SELECT pg_advisory_xact_lock(7305152315316224);
    DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'alembic_version') THEN
        CREATE TYPE studydirection AS ENUM ('NOT_SET', 'MINIMIZE', 'MAXIMIZE');
        CREATE TYPE trialstate AS ENUM ('RUNNING', 'COMPLETE', 'PRUNED', 'FAIL', 'WAITING');
        CREATE TYPE trialvaluetype AS ENUM ('FINITE', 'INF_POS', 'INF_NEG');
        CREATE TYPE trialintermediatevaluetype AS ENUM ('FINITE', 'INF_POS', 'INF_NEG', 'NAN');
        CREATE TABLE studies (
          study_id SERIAL NOT NULL,
          study_name VARCHAR(512) NOT NULL,
          PRIMARY KEY (study_id)
        );
        CREATE UNIQUE INDEX ix_studies_study_name ON studies (study_name);
        CREATE TABLE version_info (
          version_info_id INTEGER NOT NULL,
          schema_version INTEGER,
          library_version VARCHAR(256),
          PRIMARY KEY (version_info_id),
          CHECK (version_info_id=1)
        );
        CREATE TABLE study_directions (
          study_direction_id SERIAL NOT NULL,
          direction studydirection NOT NULL,
          study_id INTEGER NOT NULL,
          objective INTEGER NOT NULL,
          PRIMARY KEY (study_direction_id),
          UNIQUE (study_id, objective),
          FOREIGN KEY(study_id) REFERENCES studies (study_id)
        );
        CREATE TABLE study_user_attributes (
          study_user_attribute_id SERIAL NOT NULL,
          study_id INTEGER,
          key VARCHAR(512),
          value_json TEXT,
          PRIMARY KEY (study_user_attribute_id),
          UNIQUE (study_id, key),
          FOREIGN KEY(study_id) REFERENCES studies (study_id)
        );
        CREATE TABLE study_system_attributes (
          study_system_attribute_id SERIAL NOT NULL,
          study_id INTEGER,
          key VARCHAR(512),
          value_json TEXT,
          PRIMARY KEY (study_system_attribute_id),
          UNIQUE (study_id, key),
          FOREIGN KEY(study_id) REFERENCES studies (study_id)
        );
        CREATE TABLE trials (
          trial_id SERIAL NOT NULL,
          number INTEGER,
          study_id INTEGER,
          state trialstate NOT NULL,
          datetime_start TIMESTAMP WITHOUT TIME ZONE,
          datetime_complete TIMESTAMP WITHOUT TIME ZONE,
          PRIMARY KEY (trial_id),
          FOREIGN KEY(study_id) REFERENCES studies (study_id)
        );
        CREATE INDEX ix_trials_study_id ON trials (study_id);
        CREATE TABLE trial_user_attributes (
          trial_user_attribute_id SERIAL NOT NULL,
          trial_id INTEGER,
          key VARCHAR(512),
          value_json TEXT,
          PRIMARY KEY (trial_user_attribute_id),
          UNIQUE (trial_id, key),
          FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
        );
        CREATE TABLE trial_system_attributes (
          trial_system_attribute_id SERIAL NOT NULL,
          trial_id INTEGER,
          key VARCHAR(512),
          value_json TEXT,
          PRIMARY KEY (trial_system_attribute_id),
          UNIQUE (trial_id, key),
          FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
        );
        CREATE TABLE trial_params (
          param_id SERIAL NOT NULL,
          trial_id INTEGER,
          param_name VARCHAR(512),
          param_value FLOAT,
          distribution_json TEXT,
          PRIMARY KEY (param_id),
          UNIQUE (trial_id, param_name),
          FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
        );
        CREATE TABLE trial_values (
          trial_value_id SERIAL NOT NULL,
          trial_id INTEGER NOT NULL,
          objective INTEGER NOT NULL,
          value FLOAT,
          value_type trialvaluetype NOT NULL,
          PRIMARY KEY (trial_value_id),
          UNIQUE (trial_id, objective),
          FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
        );
        CREATE TABLE trial_intermediate_values (
          trial_intermediate_value_id SERIAL NOT NULL,
          trial_id INTEGER NOT NULL,
          step INTEGER NOT NULL,
          intermediate_value FLOAT,
          intermediate_value_type trialintermediatevaluetype NOT NULL,
          PRIMARY KEY (trial_intermediate_value_id),
          UNIQUE (trial_id, step),
          FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
        );
        CREATE TABLE trial_heartbeats (
          trial_heartbeat_id SERIAL NOT NULL,
          trial_id INTEGER NOT NULL,
          heartbeat TIMESTAMP WITHOUT TIME ZONE NOT NULL,
          PRIMARY KEY (trial_heartbeat_id),
          UNIQUE (trial_id),
          FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
        );
        CREATE TABLE alembic_version (
          version_num VARCHAR(32) NOT NULL,
          CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
        );
        INSERT INTO version_info (version_info_id, schema_version, library_version) VALUES (1, \(schemaVersion), '\(libraryVersion)');
        INSERT INTO alembic_version (version_num) VALUES ('\(alembicVersion)');
      END IF;
    END $$;
    COMMIT;
    """
}
