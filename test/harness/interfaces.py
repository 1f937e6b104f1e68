# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The test-only interface packages in test/interfaces: their build, and the env to use them.

``autoware_planning_msgs`` (Trajectory, TrajectoryPoint) and
``autoware_internal_debug_msgs`` (StringStamped) are what the alpamayo-autoware
wrapper publishes; they are not on PyPI, so ``make interfaces`` builds them from
.msg files with the venv's ROS wheels (``python -m harness.interfaces build``)
into the venv's ``interfaces/install``: the build belongs to that venv (its
Python, numpy and ROS libraries), goes with it, and no linter or colcon crawl of
the repository sees it. They are never installed with safety_gate: a
COLCON_IGNORE keeps the sources out of any workspace that contains this
repository.

A process can only use them when it starts with the install's ``lib`` on
LD_LIBRARY_PATH (the dynamic loader reads it once, at start), so the tests
run whatever imports them as a child process with :func:`interfaces_env`.
"""

import argparse
import os
from pathlib import Path
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from typing import Dict, List, Optional, Sequence

from harness.ros import REPO, skip_or_fail

SOURCES = REPO / 'test' / 'interfaces'
PACKAGES = ('autoware_planning_msgs', 'autoware_internal_debug_msgs')
BUILD = Path(sys.prefix) / 'interfaces'
INSTALL = BUILD / 'install'
STAMP = BUILD / '.stamp'  # written after a complete build; the Makefile's target
SITE_PACKAGES = f'lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages'
# The ROS wheels' exported CMake files name the include directories of the machine
# that built them (a manylinux image); rosidl_generator_py compiles against them.
FOREIGN_PYTHON_INCLUDE = re.compile(r'/opt/python/[^/;"]+/include/python3\.\d+')
FOREIGN_NUMPY_INCLUDE = re.compile(r'/opt/python/[^;"]+/site-packages/numpy/_core/include')


def missing_build_tools() -> List[str]:
    """Return the build tools (cmake, a C and a C++ compiler) not found on PATH."""
    wanted = {'cmake': ('cmake',), 'a C compiler': ('cc', 'gcc', 'clang'),
              'a C++ compiler': ('c++', 'g++', 'clang++')}
    return [what for what, names in wanted.items()
            if not any(shutil.which(name) for name in names)]


def interfaces_missing() -> Optional[str]:
    """Return why the interface packages cannot be used here, or None if they can."""
    absent = [package for package in PACKAGES
              if not (INSTALL / SITE_PACKAGES / package / 'msg' / '__init__.py').exists()]
    if not absent:
        return None
    tools = missing_build_tools()
    how = (f'building them needs {", ".join(tools)}, absent here' if tools
           else '`make interfaces` builds them')
    return (f'the test interface packages {", ".join(absent)} are not built in {INSTALL} '
            f'({how})')


def require_interfaces() -> None:
    """Skip the calling test module without the built interface packages; under CI=true, fail."""
    skip_or_fail(interfaces_missing())


def _prepend(value: str, existing: Optional[str]) -> str:
    return os.pathsep.join(filter(None, [value, existing]))


def interfaces_env(base: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """Return PYTHONPATH, LD_LIBRARY_PATH and AMENT_PREFIX_PATH with the packages' install.

    Only these three variables, each with the install in front of its value in
    ``base`` (default: this process's environment); merge them over the child's env.
    PYTHONPATH also starts with this checkout and its test directory, so a child
    runs the code under test and can run the harness's modules.
    """
    base = os.environ if base is None else base
    python_path = os.pathsep.join([str(REPO), str(REPO / 'test'), str(INSTALL / SITE_PACKAGES)])
    return {
        'PYTHONPATH': _prepend(python_path, base.get('PYTHONPATH')),
        'LD_LIBRARY_PATH': _prepend(str(INSTALL / 'lib'), base.get('LD_LIBRARY_PATH')),
        'AMENT_PREFIX_PATH': _prepend(os.pathsep.join([str(INSTALL), sys.prefix]),
                                      base.get('AMENT_PREFIX_PATH')),
    }


def localize_cmake_includes(prefix: Path) -> int:
    """Point the include directories in ``prefix``/share/**/*.cmake at this interpreter's.

    Return the number of files rewritten; a second call rewrites none.
    """
    import numpy  # only the build needs it; the wheels' rosidl_generator_py exports it
    python_include = sysconfig.get_paths()['include']
    numpy_include = numpy.get_include()
    rewritten = 0
    for path in sorted((prefix / 'share').rglob('*.cmake')):
        text = path.read_text(encoding='utf-8')
        local = FOREIGN_NUMPY_INCLUDE.sub(numpy_include,
                                          FOREIGN_PYTHON_INCLUDE.sub(python_include, text))
        if local != text:
            path.write_text(local, encoding='utf-8')
            rewritten += 1
    return rewritten


def build(pip_packages: Sequence[str]) -> int:
    """Install ``pip_packages``, then colcon-build the interface packages; return an exit code.

    Without cmake or a compiler it builds nothing, says why and returns 0, so
    ``make test`` goes on and the interoperability tests skip (fail under CI=true).
    """
    tools = missing_build_tools()
    if tools:
        print(f'note: {", ".join(tools)} not found: the test interface packages '
              f'({", ".join(PACKAGES)}) are not built and the interoperability tests skip '
              '(under CI=true they fail)', file=sys.stderr)
        return 0
    started = time.monotonic()
    if pip_packages:
        pip = [sys.executable, '-m', 'pip', 'install', '-q', *pip_packages]
        if subprocess.run(pip).returncode != 0:
            return 1
    prefix = Path(sys.prefix)
    print(f'localized the include directories of {localize_cmake_includes(prefix)} '
          'CMake files of the ROS wheels')
    installed = time.monotonic()
    # The ROS wheels install into the venv, which is therefore the ROS prefix.
    env = dict(os.environ, PATH=_prepend(str(prefix / 'bin'), os.environ.get('PATH')),
               CMAKE_PREFIX_PATH=_prepend(str(prefix), os.environ.get('CMAKE_PREFIX_PATH')),
               AMENT_PREFIX_PATH=_prepend(str(prefix), os.environ.get('AMENT_PREFIX_PATH')))
    STAMP.unlink(missing_ok=True)
    colcon = [str(prefix / 'bin' / 'colcon'), '--log-base', str(BUILD / 'log'), 'build',
              '--merge-install', '--build-base', str(BUILD / 'build'),
              '--install-base', str(INSTALL),
              # Each package by its own path: the COLCON_IGNORE in their parent
              # directory only keeps them out of crawled workspaces.
              '--paths', *(str(SOURCES / package) for package in PACKAGES),
              '--cmake-args', '-DBUILD_TESTING=OFF', f'-DPython3_EXECUTABLE={sys.executable}']
    if subprocess.run(colcon, env=env).returncode != 0:
        return 1
    done = time.monotonic()
    STAMP.touch()
    print(f'built {", ".join(PACKAGES)} into {INSTALL}: pip {installed - started:.1f} s, '
          f'colcon {done - installed:.1f} s')
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``build [pip packages...]``: what ``make interfaces`` runs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest='command', required=True)
    build_command = commands.add_parser('build', help=build.__doc__.splitlines()[0])
    build_command.add_argument('pip_packages', nargs='*',
                               help='PyPI packages the build needs, installed first')
    args = parser.parse_args(argv)
    return build(args.pip_packages)


if __name__ == '__main__':
    sys.exit(main())
