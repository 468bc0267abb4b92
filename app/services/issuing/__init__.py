"""(exports added below)"""
