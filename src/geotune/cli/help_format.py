"""Help text that shows each option's default, so what `--help` says is what a command does."""

from __future__ import annotations

import argparse


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Appends "(default: X)" to every option's help, except where there is no default worth stating.

    None (nothing given means "not used" or "worked out", which the help says in words) and False (a switch
    that is off) are left out; so is a default the help already states with %(default)s.
    """

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)
