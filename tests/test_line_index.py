"""LineIndex.edited (the incremental update) always equals indexing the new text from scratch."""

from hypothesis import given, settings
from hypothesis import strategies as st

from llama_lsp.context.positions import LineIndex

PIECES = st.text(alphabet=st.sampled_from(list("ab \n\r\t😀é")), max_size=30)


@settings(max_examples=400, deadline=None)
@given(PIECES, st.data())
def test_edited_matches_full_recompute(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    inserted = data.draw(PIECES)
    edited = LineIndex(text).edited(start, end, inserted)
    fresh = LineIndex(text[:start] + inserted + text[end:])
    assert edited.text == fresh.text
    assert edited.starts == fresh.starts
