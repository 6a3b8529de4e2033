"""The foundations the model stands on: named random streams, distributions, the working calendar."""
