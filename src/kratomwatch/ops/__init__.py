"""Operations on a KratomWatch installation as a whole: backups and restores."""
