"""The practice page for learners and teachers: decks of test faces, played offline in a browser."""
