"""Asks a Django project one question, in the project's own interpreter (run as `python -c SOURCE SPEC`).

Never imported by the guard: frameworks/django.py reads this file's text and runs it with the
user's Python, so only the standard library and the user's own Django are used here (and nothing
newer than Python 3.8). The project is loaded the way its command loads it: manage.py itself runs
(its DJANGO_SETTINGS_MODULE default, its sys.path and .env handling), up to the point where it
hands over to Django's `execute_from_command_line`; there the probe sets Django up and answers.

SPEC is a JSON file: {"question", "manage", "settings", "pythonpath", "database", ...}. The answer is
one JSON line after MARK on stdout; anything else the project prints is ignored.
"""

import contextlib
import json
import os
import runpy
import sys
import traceback

MARK = "@@migration-guard-django@@"


_answered = []


def _answer(payload):
    _answered.append(True)
    sys.stdout.write("\n" + MARK + json.dumps(payload, default=str) + "\n")
    sys.stdout.flush()


def _connection(spec):
    from django.db import connections

    return connections[spec.get("database") or "default"]


def ask_url(spec):
    conn = _connection(spec)
    s = conn.settings_dict
    options = {k: v for k, v in (s.get("OPTIONS") or {}).items() if isinstance(v, (str, int, float))}
    return {"vendor": conn.vendor, "engine": s.get("ENGINE"), "name": str(s.get("NAME") or ""),
            "user": s.get("USER") or "", "password": s.get("PASSWORD") or "", "host": s.get("HOST") or "",
            "port": str(s.get("PORT") or ""), "options": options}


def _targets(executor, spec):
    """The same targets `migrate [app_label [migration_name]]` computes."""
    graph = executor.loader.graph
    app, name = spec.get("app_label"), spec.get("migration_name")
    if app and app not in executor.loader.migrated_apps:
        raise LookupError(f"App '{app}' does not have migrations.")
    if app and name:
        if name == "zero":
            return [(app, None)]
        target = (app, executor.loader.get_migration_by_prefix(app, name).name)
        if target not in graph.nodes and target in executor.loader.replacements:
            target = executor.loader.replacements[target].replaces[-1]
        return [target]
    if app:
        return [key for key in graph.leaf_nodes() if key[0] == app]
    return graph.leaf_nodes()


def _path(migration):
    module = sys.modules.get(type(migration).__module__)
    return getattr(module, "__file__", None)


def ask_pending(spec):
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(_connection(spec))
    plan = executor.migration_plan(_targets(executor, spec))
    nodes = executor.loader.graph.node_map
    return {"plan": [{"app": m.app_label, "name": m.name, "backwards": bool(backwards), "path": _path(m),
                      "parents": sorted(".".join(p.key) for p in nodes[(m.app_label, m.name)].parents)}
                     for m, backwards in plan]}


def ask_sql(spec):
    """What `sqlmigrate` prints, for every pending migration in one pass, each from the state the
    ones before it leave (as `migrate` builds it). A step that is not SQL (RunPython) becomes one
    `-- data step:` line in its place, so the guard knows it is there and never mistakes it for DDL."""
    from django.db.migrations.executor import MigrationExecutor

    conn = _connection(spec)
    executor = MigrationExecutor(conn)
    state = executor._create_project_state(with_applied_migrations=True)
    out = dict.fromkeys(spec["ids"])
    for ident in spec["ids"]:
        app, _, name = ident.partition(".")
        migration = executor.loader.graph.nodes.get((app, name))
        if migration is None:
            break
        try:
            out[ident] = _collect(conn, migration, state)
        except Exception as exc:
            # Some operations introspect the live database (e.g. to find a constraint to drop) and
            # fail where it is not as they expect. This one is unknown, and so is every later one,
            # whose state it would have made.
            out[ident] = None
            return {"sql": out, "error": f"{ident}: {type(exc).__name__}: {exc}"}
    return {"sql": out}


def _collect(conn, migration, state):
    app = migration.app_label
    with conn.schema_editor(collect_sql=True, atomic=migration.atomic) as editor:
        for operation in migration.operations:
            old_state = state.clone()
            operation.state_forwards(app, state)
            if not operation.reduces_to_sql:
                code = getattr(getattr(operation, "code", None), "__name__", "")
                what = " ".join((operation.describe() + (" " + code if code else "")).split())
                editor.collected_sql.append("-- data step: " + what)
                continue
            operation.database_forwards(app, editor, old_state, state)
    # Deferred SQL (indexes, foreign keys) is collected when the editor closes, as it runs.
    return list(editor.collected_sql)


def ask_record(spec):
    """Record migrations as applied the way `migrate --fake` does (a squashed one records what it
    replaces), skipping any already recorded: django_migrations has no unique key to stop a twin."""
    from django.db import transaction
    from django.db.migrations.executor import MigrationExecutor

    conn = _connection(spec)
    executor = MigrationExecutor(conn)
    applied = set(executor.recorder.applied_migrations())
    recorded, already = [], []
    with transaction.atomic(using=conn.alias):
        for ident in spec["ids"]:
            app, _, name = ident.partition(".")
            migration = executor.loader.graph.nodes.get((app, name)) or executor.loader.disk_migrations.get(
                (app, name))
            if migration is None:
                raise LookupError(f"no migration {ident} in this project")
            for key in migration.replaces or [(app, name)]:
                if tuple(key) in applied:
                    already.append(".".join(key))
                else:
                    executor.recorder.record_applied(*key)
                    applied.add(tuple(key))
                    recorded.append(".".join(key))
    return {"recorded": recorded, "already": already}


QUESTIONS = {"url": ask_url, "pending": ask_pending, "sql": ask_sql, "record": ask_record}


def _setup_and_answer(spec):
    try:
        if spec.get("settings"):
            os.environ["DJANGO_SETTINGS_MODULE"] = spec["settings"]
        if spec.get("pythonpath"):
            sys.path.insert(0, spec["pythonpath"])
        import django

        django.setup()
        _answer(QUESTIONS[spec["question"]](spec))
    except BaseException as exc:  # the guard reads the reason; the project's own output stays noise
        first = (str(exc).strip().splitlines() or [""])[0]
        _answer({"error": f"{type(exc).__name__}: {first}", "traceback": traceback.format_exc()[-4000:]})
    return 0


def main(spec_path):
    with open(spec_path, encoding="utf-8") as fh:
        spec = json.load(fh)
    manage = spec.get("manage")
    if not manage:
        _setup_and_answer(spec)
        return
    import django.core.management as management

    # manage.py ends in execute_from_command_line(sys.argv): answer there instead of running a command.
    management.execute_from_command_line = lambda argv=None: _setup_and_answer(spec)
    sys.argv = [manage, "migrate"]
    sys.path[0] = os.path.dirname(os.path.abspath(manage))
    with contextlib.suppress(SystemExit):
        runpy.run_path(manage, run_name="__main__")
    if not _answered:
        _answer({"error": f"{manage} did not call django.core.management.execute_from_command_line"})


if __name__ == "__main__":
    main(sys.argv[1])
