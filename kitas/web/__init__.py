"""Blueprints, one package per audience. Routes parse input, call one service, render."""
