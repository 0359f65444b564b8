"""GB 32100 credit codes built from their parts (赋码) and the GB 11714 organisation code check."""

from __future__ import annotations

from stdnum.cn import uscc

from liaocheng.core.identity import clean_credit_code, credit_code_from, org_code_check


def test_organisation_code_check_matches_gb_11714_example() -> None:
    assert org_code_check("D2143569") == "X"  # the standard's worked example D2143569-X


def test_credit_code_from_parts_matches_a_real_code() -> None:
    # python-stdnum's example of a valid code: 91 350100 M000100Y 4 3
    assert credit_code_from("91", "350100", "M000100Y") == "91350100M000100Y43"
    code = credit_code_from("91", "371500", "MA3C4XY1")
    assert uscc.is_valid(code) and clean_credit_code(code).warning == ""
