"""The password rules, in one place: the back office, the CLI and the API all ask this.

``check_password_rules`` returns the broken rules as readable messages (Vietnamese, or
English under ``?lang=en`` inside a request; Vietnamese outside one), an empty list when
the password is acceptable.
"""

from __future__ import annotations

from flask_babel import gettext as _

MIN_LENGTH = 10
MAX_LENGTH = 200  # a longer "password" is a pasted file, and hashing it is wasted work


def check_password_rules(password: str) -> list[str]:
    """What is wrong with ``password`` (nothing: ``[]``)."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(_("Mật khẩu cần ít nhất %(n)d ký tự.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        problems.append(_("Mật khẩu dài quá %(n)d ký tự.", n=MAX_LENGTH))
    if password.isdigit():
        problems.append(_("Mật khẩu không được chỉ gồm chữ số."))
    if password and not password.strip():
        problems.append(_("Mật khẩu không được chỉ gồm khoảng trắng."))
    return problems
