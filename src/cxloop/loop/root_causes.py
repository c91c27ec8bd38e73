"""Root-cause codes a resolved case is filed under: a default list and a configured one.

Pure: no database. Codes are short, stable identifiers (health reports group by them); each has
an English and a Chinese label for screens. A configured list (YAML or settings) replaces the
default entirely, so a company files cases under its own words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cxloop.errors import Invalid, Problem

ROOT_CAUSES: dict[str, dict[str, str]] = {
    "product_defect": {"en": "Product defect", "zh": "产品缺陷"},
    "delivery": {"en": "Delivery or logistics", "zh": "配送物流"},
    "staff_behaviour": {"en": "Staff behaviour", "zh": "服务态度"},
    "billing": {"en": "Billing or refund", "zh": "账单退款"},
    "policy": {"en": "Company policy", "zh": "公司政策"},
    "expectation": {"en": "Expectation gap", "zh": "预期不符"},
    "customer_error": {"en": "Customer error", "zh": "客户操作"},
    "other": {"en": "Other", "zh": "其他"},
}
_CODE = re.compile(r"^[a-z][a-z0-9_\-]{0,63}$")


def parse_root_causes(data: Any) -> dict[str, dict[str, str]]:
    """Codes from loaded YAML: a list of codes, or a mapping code → label (text, or
    ``{en, zh}``). ``Invalid`` lists every bad code at once."""
    if isinstance(data, list):
        data = {code: code for code in data} if all(isinstance(c, str) for c in data) else data
    if not isinstance(data, Mapping) or not data:
        raise Invalid("must be a non-empty list of codes or a mapping code → label", "", data)
    out: dict[str, dict[str, str]] = {}
    problems = []
    for code, label in data.items():
        if not isinstance(code, str) or not _CODE.match(code):
            reason = "is not a code (lower-case letters, digits, _ or -; up to 64)"
            problems.append(Problem("root_causes", code, reason))
            continue
        if isinstance(label, str) and label.strip():
            out[code] = {"en": label.strip(), "zh": label.strip()}
        elif isinstance(label, Mapping) and all(
            isinstance(v, str) and v.strip() for v in label.values()
        ):
            out[code] = {str(k): str(v).strip() for k, v in label.items()}
        else:
            problems.append(
                Problem(f"root_causes.{code}", label, "is not a label (text or {en, zh})")
            )
    if problems:
        raise Invalid(problems)
    return out


def check_root_cause(code: Any, codes: Mapping[str, Any] | None = None) -> str:
    """``code`` when it is one of ``codes`` (default ``ROOT_CAUSES``), else ``Invalid`` that
    lists the codes there are."""
    known = ROOT_CAUSES if codes is None else codes
    if isinstance(code, str) and code.strip() in known:
        return code.strip()
    raise Invalid(f"is not a root cause ({', '.join(known)})", "root_cause", code)
