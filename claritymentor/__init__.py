"""ClarityMentor: an emotion-aware voice mentor that runs offline on a CPU."""

__version__ = "0.1.0"
