from tests.conftest import Console


async def test_join_and_claim_from_the_console(console: Console) -> None:
    out = await console(
        """
        as mgr
        /ambassador add https://example.com/a First item
        /ambassador digest now
        as alice
        /ambassador claim 1
        click I agree
        """
    )
    assert "I work at ACME." in out
    assert "https://example.com/a" in out
