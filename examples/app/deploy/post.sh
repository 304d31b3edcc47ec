# Runs after `current` points at the new release.
echo "post-deploy: $(readlink ../current) is live in $FLOTILLA_INSTALL_DIR"
