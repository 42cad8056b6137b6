"""Who may do what is decided in kratomwatch/clinic/access.py and nowhere else.

Every module under src/kratomwatch is parsed and two kinds of code are flagged outside
access.py:

- a comparison (``==``, ``!=``, ``in``, ``not in``, ``is``, ``is not``) with an operand that
  mentions a role or a clinic: ``x.role``, ``Role.PATIENT``, ``x.clinic``, ``x.clinic_id``;
- a query (``.filter``, ``.exclude``, ``.get``, ``Q(...)``) with a lookup through ``role``,
  ``clinic`` or ``clinic_id`` (``role=``, ``clinic_id=``, ``patient__clinic=`` ...).

Setting a role or clinic (``User(role=Role.PATIENT)``, ``choices=Role.choices``) is neither,
and passes. What must compare outside access.py is listed in ALLOWED, by module and function,
with the reason; an entry that no longer matches anything fails too, so the list stays short.
Migrations are not read: they are the schema's history and decide nothing at run time.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import kratomwatch

SRC = Path(kratomwatch.__file__).parent
POLICY = "clinic/access.py"
NAMES = {"role", "clinic", "clinic_id"}
QUERIES = {"filter", "exclude", "get", "Q"}

# (module, function) -> why it may compare roles or clinics outside access.py.
ALLOWED: dict[tuple[str, str], str] = {
    ("clinic/actions/admin.py", "do_invite_user"): (
        "what an invitation of each role needs (a clinician an e-mail, a patient a care team); "
        "the role compared is the one being given, not the admin's"
    ),
    ("clinic/actions/admin.py", "_open_account"): (
        "a patient's account is opened with its patient profile; the role is the one given"
    ),
    ("clinic/forms/admin.py", "InviteForm.clean"): (
        "the same invitation rules as do_invite_user, shown on the form's fields"
    ),
    ("clinic/cohort.py", "clinic_patients"): (
        "cohort statistics of the clinic named on the command line; no signed-in user"
    ),
    ("interop/csv_clinic.py", "import_clinic_csv"): (
        "command-line import into the clinic the operator names, which must have no patients"
    ),
    ("interop/csv_clinic.py", "_check_care_team"): (
        "command-line import: care-team rows must name clinicians of the clinic imported into"
    ),
    ("interop/fhir_export.py", "clinic_patients"): (
        "command-line export of the clinic the operator names; no signed-in user"
    ),
    ("synthetic/seed.py", "seed_demo_clinic"): (
        "demo data: screens the patients of the clinic the command has just seeded"
    ),
    ("synthetic/seed.py", "_logins"): (
        "demo data: lists the seeded accounts, with a story per role, for the command's output"
    ),
}


@dataclass(frozen=True)
class Hit:
    path: str
    line: int
    function: str
    code: str

    def __str__(self) -> str:
        return f"src/kratomwatch/{self.path}:{self.line} ({self.function or 'module'}): {self.code}"


def _mentions(node: ast.AST) -> bool:
    """``node`` reads a role or a clinic: ``x.role``, ``x.clinic(_id)``, ``Role.X``."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute):
            if sub.attr in NAMES:
                return True
            owner = sub.value
            if (isinstance(owner, ast.Name) and owner.id == "Role") or (
                isinstance(owner, ast.Attribute) and owner.attr == "Role"
            ):
                return True
    return False


def _is_query(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr in QUERIES
    return isinstance(func, ast.Name) and func.id in QUERIES


class _Finder(ast.NodeVisitor):
    def __init__(self, path: str, source: str) -> None:
        self.path = path
        self.source = source
        self.scope: list[str] = []
        self.hits: list[Hit] = []

    def _hit(self, node: ast.AST) -> None:
        code = ast.get_source_segment(self.source, node) or ""
        self.hits.append(
            Hit(self.path, node.lineno, ".".join(self.scope), " ".join(code.split())[:100])  # type: ignore[attr-defined]
        )

    def _scoped(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scoped

    def visit_Compare(self, node: ast.Compare) -> None:
        if _mentions(node.left) or any(_mentions(c) for c in node.comparators):
            self._hit(node)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if _is_query(node) and any(
            kw.arg is not None and NAMES & set(kw.arg.split("__")) for kw in node.keywords
        ):
            self._hit(node)
        self.generic_visit(node)


def hits_in(path: str, source: str) -> list[Hit]:
    finder = _Finder(path, source)
    finder.visit(ast.parse(source))
    return finder.hits


def all_hits() -> Iterator[Hit]:
    for file in sorted(SRC.rglob("*.py")):
        path = file.relative_to(SRC).as_posix()
        if path == POLICY or "/migrations/" in path:
            continue
        yield from hits_in(path, file.read_text(encoding="utf-8"))


def _allowed(hit: Hit) -> bool:
    return (hit.path, hit.function) in ALLOWED or (
        hit.path,
        hit.function.split(".")[0],
    ) in ALLOWED


def test_only_access_py_compares_roles_and_clinics() -> None:
    bad = [str(h) for h in all_hits() if not _allowed(h)]
    assert not bad, (
        "Who may do what belongs in clinic/access.py (add a getter there and call it), "
        "or, if this decides nothing about access, in ALLOWED with the reason:\n" + "\n".join(bad)
    )


def test_every_allowed_entry_is_still_needed() -> None:
    used = {(h.path, h.function) for h in all_hits()}
    used |= {(path, function.split(".")[0]) for path, function in used}
    assert not sorted(set(ALLOWED) - used)


def test_access_py_is_read_and_holds_the_policy() -> None:
    source = (SRC / POLICY).read_text(encoding="utf-8")
    assert len(hits_in(POLICY, source)) >= 5


CHECKED = """
def create(request, patient):
    user = request.user
    if user.role != Role.PATIENT:
        raise Problem(403, "no")
    if patient.clinic_id == user.clinic_id:
        pass
    if user.clinic is None or m.Role.CLINICIAN in roles:
        pass
    PatientProfile.objects.filter(clinic_id=user.clinic_id)
    Count("care_patients", filter=Q(care_patients__clinic=user.clinic))
    User.objects.exclude(role__in=["patient"]).get(pk=1)
"""

NOT_CHECKED = """
def invite(clinic):
    user = User(role=Role.PATIENT, clinic=clinic)
    PatientProfile.objects.create(user=user, clinic_id=clinic.pk)
    role = forms.ChoiceField(choices=Role.choices)
    return Me(role=user.role, clinic=user.clinic.slug if user.clinic_id else None)
"""


def test_the_check_finds_policy_and_passes_the_rest() -> None:
    assert [h.line for h in hits_in("x.py", CHECKED)] == [4, 6, 8, 8, 10, 11, 12]
    assert hits_in("x.py", NOT_CHECKED) == []
