"""What the checks in this folder share: where the tools are, running one, and the tally.

Each check prints one line per case ("ok" or "FAIL", its name, and what was compared) and
closes with `summary()`'s "N passed, M failed" line (and "K skipped" when a case could not
run), which Scripts/test.sh shows; its exit status is 1 if any case failed.
"""
import os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "Fixtures")
# The folder of the built tools: the first argument, as Scripts/test.sh passes it.
BIN = sys.argv[1] if len(sys.argv) > 1 else ".build/release"
results, skipped = [], []


def check(name, ok, detail=""):
    results.append(bool(ok))
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail else ""), flush=True)


def skip(name, why):
    """A case that cannot run here: shown as skipped, never counted as passed."""
    skipped.append(name)
    print(f"skip {name}: {why}", flush=True)


def run(tool, *args, env=None):
    """One of the built tools' standard output; a non-zero exit raises with its standard error."""
    out = subprocess.run([os.path.join(BIN, tool), *args], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"{tool} {' '.join(args)} failed: {out.stderr.strip()}")
    return out.stdout


def summary(skips=False):
    """Prints the closing tally (with the skipped count for a check that can skip cases);
    returns the exit status."""
    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed" + (f", {len(skipped)} skipped" if skips or skipped else ""))
    return 1 if failed else 0


def postgres_database(name):
    """A fresh database on the test server (MLP_TEST_POSTGRES, its maintenance database's URL);
    its URL, in libpq's spelling."""
    import psycopg2
    admin_url = os.environ["MLP_TEST_POSTGRES"]
    admin = psycopg2.connect(admin_url)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def sqlalchemy_url(url):
    """SQLAlchemy's spelling of a libpq URL, as Optuna takes it."""
    return url.replace("postgresql://", "postgresql+psycopg2://", 1) if url.startswith("postgresql://") else url
