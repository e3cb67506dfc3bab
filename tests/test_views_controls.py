"""views.controls: the chapters' ipywidgets controls show their labels in full and run on demand."""

from ipywidgets import Button, IntSlider

from lambda_lab import views


def test_controls_show_every_label_in_full_and_wait_for_the_button():
    calls = []
    box = views.controls(lambda files=1, max_concurrency=2: calls.append((files, max_concurrency)),
                         files=IntSlider(value=10, min=1, max=100), max_concurrency=IntSlider(value=5, min=2, max=10))
    sliders = [child for child in box.children if isinstance(child, IntSlider)]
    assert [s.description for s in sliders] == ["files", "max_concurrency"]
    assert all(s.style.description_width == "initial" for s in sliders)  # not ipywidgets' fixed ~80 px
    assert any(isinstance(child, Button) for child in box.children)  # manual: a Run Interact button
    assert calls == []  # nothing ran on construction
    box.update()
    assert calls == [(10, 5)]
