"""A plain (non-editable) install carries the config tree; the commands find it anywhere."""
import os
import subprocess
import sys
import zipfile

import pytest
from conftest import REPO


@pytest.mark.slow
def test_installed_package_finds_its_configs_from_any_directory(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                    "-q", "-w", str(wheels), str(REPO)], check=True, capture_output=True)
    (wheel,) = wheels.glob("dnnsweep-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"search/conf/config.yaml", "search/conf/sweep.yaml",
            "search/conf/search/sampler/tpe.yaml", "search/conf/experiment/course_deep.yaml",
            "search/report/templates/report.html.j2"} <= names
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(site), str(wheel)], check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    # course_deep evaluates on the test split; a sweep must select on folds instead, over the
    # course's space (its bounds are written: nothing to fit to data this test does not have)
    for app, module, extra in (("dnn-train", "search.cli.train", ""),
                               ("dnn-sweep", "search.cli.sweep",
                                ", 'search.cv.folds=5', 'search/space=course'")):
        code = (f"import sys, search; assert search.__file__.startswith({str(site)!r}), search.__file__; "
                f"sys.argv = [{app!r}, '--cfg', 'job', 'experiment=course_deep'{extra}]; "
                f"from {module} import main; main()")
        out = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env,
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert "learning_rate: 0.0075" in out.stdout
    # the report page's template travels as package data too
    code = ("import search.report.page as p; assert p.__file__.startswith(" + repr(str(site)) +
            "); print(p.render({'title': 'Study <s>'}, []))")
    out = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "<h1>Study &lt;s&gt;</h1>" in out.stdout
