"""banks"""
