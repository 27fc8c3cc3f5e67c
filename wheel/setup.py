"""The wheel holds native executables but no Python extension. Declared as having extension
modules, setuptools puts the packages in platlib (where auditwheel repairs them); the tag stays
`py3-none-<platform>`: any Python 3, this machine's platform, which scripts/build-wheel.sh then
lets auditwheel name as a manylinux one."""

from setuptools import Distribution, setup
from setuptools.command.bdist_wheel import bdist_wheel


class NativeDistribution(Distribution):
    def has_ext_modules(self):
        return True


class AnyPythonWheel(bdist_wheel):
    def get_tag(self):
        return "py3", "none", super().get_tag()[2]


setup(distclass=NativeDistribution, cmdclass={"bdist_wheel": AnyPythonWheel})
