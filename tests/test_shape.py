"""The shape of app/ (docs/ARCHITECTURE.md): imports run one way, only app.privacy touches
contact details, every text a template looks up exists, and every word a public /<lang>/ route
uses is a reserved slug. Each test reads the source (with `ast`) or the app's own maps, so a
change that breaks the shape fails here with the file and line to look at."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
import pytest
from flask_babel import force_locale
from jinja2 import nodes

from app import AREAS
from app.info import RESERVED_SLUGS
from app.models import ContactDetails, db

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"
# Decorators that put a URL rule on a blueprint: a module that uses one is a view module.
ROUTE_DECORATORS = {"route", "get", "post", "put", "patch", "delete"}


# --------------------------------------------------------------------------- the import graph


@dataclass(frozen=True)
class Module:
    name: str  # dotted, e.g. app.queue.digest
    path: Path
    tree: ast.Module

    @property
    def where(self) -> str:
        return str(self.path.relative_to(ROOT))

    @property
    def area(self) -> str | None:
        parts = self.name.split(".")
        return parts[1] if len(parts) > 1 and (APP / parts[1]).is_dir() else None

    @property
    def layer(self) -> str:
        """root (the factory: it composes everything), core, logic or view."""
        if self.name == "app":
            return "root"
        if self.area is None:
            return "core"
        return "view" if self.name.endswith(".views") or defines_routes(self.tree) else "logic"


@dataclass(frozen=True)
class Import:
    source: Module
    target: str
    line: int

    def __str__(self) -> str:
        return f"{self.source.where}:{self.line}: {self.source.name} imports {self.target}"


def defines_routes(tree: ast.Module) -> bool:
    """`@bp.get(...)`, `@bp.route(...)` and the like, or `bp.add_url_rule(...)`."""
    for node in ast.walk(tree):
        decorators = getattr(node, "decorator_list", [])
        for decorator in decorators:
            call = decorator.func if isinstance(decorator, ast.Call) else decorator
            if isinstance(call, ast.Attribute) and call.attr in ROUTE_DECORATORS:
                return True
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "add_url_rule":
            return True
    return False


def app_modules() -> dict[str, Module]:
    modules = {}
    for path in sorted(APP.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        name = ".".join(parts)
        modules[name] = Module(name, path, ast.parse(path.read_text(), str(path)))
    return modules


def imports_of(module: Module, modules: dict[str, Module]) -> list[Import]:
    """Every import of a module of app/, at any depth: one inside a function runs too."""
    package = module.name if module.path.name == "__init__.py" else module.name.rpartition(".")[0]
    found = []
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(base + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            # `from . import audit` imports the module app.audit; `from . import bp`, the package.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            ]
        else:
            continue
        # `from .models import A, B` is one import of app.models, reported once
        found += [Import(module, t, node.lineno) for t in dict.fromkeys(targets) if t in modules]
    return found


def all_imports() -> tuple[dict[str, Module], list[Import]]:
    modules = app_modules()
    return modules, [i for m in modules.values() for i in imports_of(m, modules)]


def test_each_package_in_app_is_an_area_of_one_shape():
    packages = {p.name for p in APP.iterdir() if (p / "__init__.py").is_file()}
    assert packages == set(AREAS), "a package in app/ is an area, and the factory lists it"
    for area in AREAS:
        init = ast.parse((APP / area / "__init__.py").read_text())
        assert ast.get_docstring(init), f"app/{area}/__init__.py says what the area owns"
        assert "bp" in {t.id for n in init.body if isinstance(n, ast.Assign) for t in n.targets}, (
            f"app/{area}/__init__.py defines the area's blueprint `bp`"
        )
        assert (APP / area / "views.py").is_file(), f"app/{area}/views.py holds its pages"


def test_layers_are_told_apart():
    """The rule that sorts modules into layers still finds what it should."""
    layers = {name: m.layer for name, m in app_modules().items()}
    assert layers["app"] == "root"
    assert layers["app.privacy"] == layers["app.models"] == "core"
    assert layers["app.queue.workflow"] == layers["app.info.catalogue"] == "logic"
    assert layers["app.referrals.flow"] == layers["app.admin.users"] == "view"
    assert layers["app.referrals.views"] == "view"  # no route of its own: views.py by name


def test_core_never_imports_an_area():
    modules, imports = all_imports()
    wrong = [i for i in imports if i.source.layer == "core" and modules[i.target].area]
    if wrong:
        pytest.fail("core modules import an area:\n" + "\n".join(map(str, wrong)), pytrace=False)


def test_area_logic_never_imports_a_view_module():
    modules, imports = all_imports()
    wrong = [i for i in imports if i.source.layer == "logic" and modules[i.target].layer == "view"]
    if wrong:
        pytest.fail("logic imports views:\n" + "\n".join(map(str, wrong)), pytrace=False)


def test_no_import_cycles_between_modules_of_app():
    """Tarjan's strongly connected components; the factory is left out, it imports all."""
    modules, imports = all_imports()
    edges: dict[str, list[Import]] = {name: [] for name in modules if name != "app"}
    for i in imports:
        if i.source.name != "app" and i.target != "app" and i.target != i.source.name:
            edges[i.source.name].append(i)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[set[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        for i in edges[name]:
            if i.target not in index:
                visit(i.target)
                low[name] = min(low[name], low[i.target])
            elif i.target in stack:
                low[name] = min(low[name], index[i.target])
        if low[name] == index[name]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == name:
                    break
            if len(component) > 1:
                cycles.append(component)

    for name in edges:
        if name not in index:
            visit(name)
    lines = []
    for component in cycles:
        lines.append("between " + ", ".join(sorted(component)) + ":")
        lines += [
            f"  {i}" for name in sorted(component) for i in edges[name] if i.target in component
        ]
    if cycles:
        pytest.fail("import cycles:\n" + "\n".join(lines), pytrace=False)


# --------------------------------------------------------------------------- the privacy line

# Columns that are contact details and nothing else (key_id and consent_id are not personal).
CONTACT_COLUMNS = {c.name for c in ContactDetails.__table__.columns} - {
    c.name for t in db.metadata.tables.values() if t.name != "contact_details" for c in t.columns
}
TABLE = ContactDetails.__tablename__
SQL_NAMING_TABLE = re.compile(rf"(?i)\b(from|join|into|update|table)\s+[\"'`]?{TABLE}\b")
# The bench generator bulk-inserts a million fake rows: it seals them with
# privacy.sealed_columns (the same encryption as real ones) and inserts them itself, and it
# counts the table's rows for its report. Those two functions (and the import) are all.
# The generators write obviously fake contact details, sealed by app.privacy.sealed_columns:
# the first organisation's, and the national data set's copies of them.
BENCH_EXCEPTIONS = {
    ("bench/generate.py", "_flush_referrals"),
    ("bench/generate.py", "count_rows"),
    ("bench/national.py", "_seal_copies"),
}


def callee(call: ast.Call) -> str | None:
    """`table` for both `table(...)` and `sa.table(...)`."""
    return getattr(call.func, "id", None) or getattr(call.func, "attr", None)


def touches_contact_details(tree: ast.Module) -> list[tuple[int, str | None, str]]:
    """(line, enclosing function, what) for each use of the model, its table or its columns."""
    found = []

    def walk(node: ast.AST, function: str | None) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
        what = None
        if isinstance(node, ast.Name) and node.id == "ContactDetails":
            what = "ContactDetails"
        elif isinstance(node, ast.Attribute) and node.attr == "ContactDetails":
            what = "ContactDetails"
        elif isinstance(node, ast.Attribute) and node.attr in CONTACT_COLUMNS:
            what = f".{node.attr}"
        elif isinstance(node, ast.ImportFrom) and "ContactDetails" in {a.name for a in node.names}:
            what = "import of ContactDetails"
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if SQL_NAMING_TABLE.search(node.value):
                what = f"SQL naming {TABLE}"
        elif isinstance(node, ast.Call) and callee(node) in ("table", "Table"):
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and first.value == TABLE:
                what = f"table({TABLE!r})"
        if what:
            found.append((node.lineno, function, what))
        for child in ast.iter_child_nodes(node):
            walk(child, function)

    walk(tree, None)
    return found


def test_only_privacy_touches_contact_details():
    """app/ and bench/ name the model, its table or its columns only in app/privacy.py (its
    definition in app/models.py is a class statement, not a use); the migrations are not
    scanned, they own the table's DDL."""
    wrong = []
    for path in sorted([*APP.rglob("*.py"), *(ROOT / "bench").rglob("*.py")]):
        where = str(path.relative_to(ROOT))
        if where == "app/privacy.py":
            continue
        for line, function, what in touches_contact_details(ast.parse(path.read_text())):
            allowed = (where, function) in BENCH_EXCEPTIONS or (
                where in ("bench/generate.py", "bench/national.py")
                and what == "import of ContactDetails"
            )
            if not allowed:
                wrong.append(f"{where}:{line}: {what}" + (f" in {function}()" if function else ""))
    if wrong:
        pytest.fail("contact details outside app/privacy.py:\n" + "\n".join(wrong), pytrace=False)


def test_the_privacy_scan_sees_each_kind_of_use():
    """The scan is only as good as what it recognises: each way in is caught."""
    uses = {
        "from app.models import ContactDetails": "import of ContactDetails",
        "models.ContactDetails": "ContactDetails",
        "row.phone_enc": ".phone_enc",
        "text('SELECT 1 FROM contact_details')": f"SQL naming {TABLE}",
        "sa.table('contact_details')": f"table({TABLE!r})",
    }
    for source, what in uses.items():
        assert what in [w for _l, _f, w in touches_contact_details(ast.parse(source))], source
    harmless = "privacy.contact_details(consent, by=user); counts['contact_details'] = 1"
    assert touches_contact_details(ast.parse(harmless)) == []


# --------------------------------------------------------------------------- template texts


def text_lookups(env: jinja2.Environment) -> list[tuple[str, int, str, str]]:
    """(template, line, global, key) for each `x["..."]` where the template set x from a
    template global, e.g. `{% set qt = queue_texts() %}`; and a failure for a constant lookup
    on a name the test cannot trace to one."""
    found = []
    for name in env.list_templates(extensions=["html", "txt", "xml", "svg"]):
        source = env.loader.get_source(env, name)[0]
        tree = env.parse(source)
        bound = {
            a.target.name: a.node.node.name
            for a in tree.find_all(nodes.Assign)
            if isinstance(a.target, nodes.Name)
            and isinstance(a.node, nodes.Call)
            and isinstance(a.node.node, nodes.Name)
            and a.node.node.name in env.globals
        }
        for item in tree.find_all(nodes.Getitem):
            if isinstance(item.node, nodes.Name) and isinstance(item.arg, nodes.Const):
                if isinstance(item.arg.value, str):
                    source_of = bound.get(item.node.name, f"? {item.node.name} is not traced")
                    found.append((name, item.lineno, source_of, item.arg.value))
    return found


def test_every_text_a_template_looks_up_exists(app):
    """A key missing from the dict would render as nothing where words belong."""
    lookups = text_lookups(app.jinja_env)
    assert any(g == "queue_texts" for _t, _l, g, _k in lookups), "the scan finds the queue's"
    wrong = []
    with app.test_request_context(), force_locale("sv"):
        for template, line, source, key in lookups:
            texts = app.jinja_env.globals.get(source)
            if texts is None or key not in texts():
                wrong.append(f"templates/{template}:{line}: {key!r} not in {source}()")
    if wrong:
        pytest.fail("texts missing:\n" + "\n".join(wrong), pytrace=False)


# --------------------------------------------------------------------------- the route map


def test_every_word_a_public_lang_route_uses_is_a_reserved_slug(app):
    """/<lang>/<slug> is a service page: a route /<lang>/withdraw takes that address from a
    service called `withdraw`, so the service form refuses the words the routes use."""
    words = {}
    for rule in app.url_map.iter_rules():
        segments = rule.rule.strip("/").split("/")
        if segments[0].startswith("<locale:") and len(segments) > 1:
            if not segments[1].startswith("<"):
                words[segments[1]] = rule.rule
    assert "/<locale:lang>/<slug>" in {r.rule for r in app.url_map.iter_rules()}
    assert "withdraw" in words, "the scan finds the public page on how to withdraw"
    missing = {word: rule for word, rule in words.items() if word not in RESERVED_SLUGS}
    if missing:
        pytest.fail(f"add these to app.info.RESERVED_SLUGS: {missing}", pytrace=False)
