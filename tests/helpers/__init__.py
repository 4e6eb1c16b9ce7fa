"""Helpers the tests share: paths, synthesized audio, tiny bundles, the CLI, fuzz inputs."""
