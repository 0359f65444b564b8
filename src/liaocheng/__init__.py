"""Digital Liaocheng (数字聊城): a city informatization platform."""

__version__ = "0.1.0"
