# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Install the safety_gate ament_python package."""

from glob import glob

from setuptools import find_packages, setup

package_name = 'safety_gate'
share = 'share/' + package_name

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        (share, ['package.xml']),
        (share + '/launch', glob('launch/*.launch.py')),
        (share + '/config', glob('config/*.yaml') + glob('config/*.xml') + glob('config/*.json')
         + glob('config/*.rviz')),
        (share + '/scenarios', glob('scenarios/*.yaml')),
        (share + '/security', glob('security/*.xml')),
        (share + '/security/common', glob('security/common/*.xml')),
    ],
    install_requires=['setuptools'],
    # Tools only; the gate never imports them: `safety-gate export`, `safety-gate campaign`
    # (its results), `safety-gate campaign --ray` (a cluster) and `safety-gate spi`, `baseline`
    # and `export --parquet` (duckdb).
    extras_require={'export': ['mcap', 'rosbags'], 'campaign': ['pyarrow'],
                    'cluster': ['ray'], 'fleet': ['duckdb']},
    zip_safe=True,
    maintainer='safety_gate maintainers',
    maintainer_email='safety-gate@example.com',
    description='Runtime safety gate between an AI planner and the actuator command topic.',
    license='Apache-2.0',
    tests_require=['pytest'],
    entry_points={
        'console_scripts': [
            'safety_gate_node = safety_gate.node:main',
            'safety_gate_lifecycle_node = safety_gate.lifecycle_node:main',
            'safety-gate = safety_gate.cli:main',
            'safety_gate_sim_vehicle = safety_gate.kit.world.sim_vehicle:main',
            'safety_gate_planner = safety_gate.kit.world.planner:main',
        ],
    },
)
