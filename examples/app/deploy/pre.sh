# Runs in the new release's directory before `current` switches to it.
echo "pre-deploy: release $FLOTILLA_RELEASE of $FLOTILLA_PROJECT for ${FLOTILLA_TENANT:-everyone} on $FLOTILLA_TARGET"
test -f index.html
