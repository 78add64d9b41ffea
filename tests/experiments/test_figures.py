"""Figures carry a title, axis labels and a legend, and are written as PNG files."""

from trainer.experiments.figures import bars_figure, curves_figure, save_figure


def test_curves_figure_is_labelled_and_saved(tmp_path):
    figure = curves_figure({"pmtrec": [0.05, 0.08, 0.09], "ew": [0.04, 0.07]}, title="curves")
    (axes,) = figure.axes
    assert axes.get_title() == "curves"
    assert axes.get_xlabel() == "epoch" and axes.get_ylabel() == "validation Recall@20"
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ["pmtrec", "ew"]
    assert list(axes.get_lines()[0].get_ydata()) == [0.05, 0.08, 0.09]
    path = tmp_path / "curves.png"
    save_figure(figure, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000


def test_bars_figure_has_one_group_per_variant(tmp_path):
    figure = bars_figure(
        ["full", "no focusing"],
        {"test recall@20": ([0.1, 0.09], [0.01, 0.0]), "test ndcg@20": ([0.05, 0.04], [0, 0])},
        title="ablation",
        ylabel="test metric",
    )
    (axes,) = figure.axes
    assert axes.get_title() == "ablation" and axes.get_ylabel() == "test metric"
    assert [t.get_text() for t in axes.get_xticklabels()] == ["full", "no focusing"]
    assert len(axes.patches) == 4
    save_figure(figure, tmp_path / "bars.png")
    assert (tmp_path / "bars.png").stat().st_size > 1000


def test_the_same_figure_gives_the_same_png_bytes(tmp_path):
    for name in ("a.png", "b.png"):
        save_figure(curves_figure({"ew": [0.1, 0.2]}, title="t"), tmp_path / name)
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
