"""Values that have broken servers: shared by the fuzz of the web forms
(tests/web/test_bad_input_properties.py) and of the API (tests/api/test_api_fuzz.py)."""

from __future__ import annotations

from hypothesis import strategies as st

NASTY = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8", categories=["Cc", "Cf", "So", "Lo", "Zs"]), max_size=20),
    st.sampled_from(
        [
            "",
            "0",
            "-1",
            "-0",
            "1e309",
            "1e400",
            "1E+999999999",
            "9" * 300,
            "1." + "0" * 300 + "1",
            "0.0000001",
            "a\x00b",
            "\x1b[31m",
            "\x7f\x85",
            "\t\r\n",
            "😀🐢中文 مرحبا",
            "$\\frac{",
            "NaN",
            "inf",
            "1,5",
            "2.5",
            "9" * 40,
            "2026-02-30",
            "25:61",
            "null",
            "<script>",
            "' OR 1=1 --",
            "\x00",
            "٣",
            "1" * 5000,
        ]
    ),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
)

#: JSON numbers no float or ordinary decimal holds, sent as they are written.
RAW_NUMBER_TEXTS = [
    "1e400",
    "-1e400",
    "1E+999999999",
    "9" * 300,
    "1" * 5000,
    "1." + "0" * 300 + "1",
    "1e-400",
    "-0",
]
RAW_NUMBERS = st.sampled_from(RAW_NUMBER_TEXTS)
#: Text PostgreSQL cannot store (NUL) and other control characters.
CONTROL_TEXTS = ["a\x00b", "\x00", "\x1b[31m", "\x7f\x85"]
