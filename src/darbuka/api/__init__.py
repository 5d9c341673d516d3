"""HTTP routes: parse, call one service, render."""
