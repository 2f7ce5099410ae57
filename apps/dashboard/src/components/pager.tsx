import { Button, Group, Text } from '@mantine/core';
import { useCallback, useState } from 'react';

/** Keyset pages: the cursors of the pages before this one, so "Previous" goes back without offsets. */
export function useCursorPages(resetKey: string) {
  const [state, setState] = useState<{ key: string; stack: (string | undefined)[] }>({
    key: resetKey,
    stack: [undefined],
  });
  const stack = state.key === resetKey ? state.stack : [undefined];
  const cursor = stack[stack.length - 1];
  const next = useCallback(
    (nextCursor: string) => setState({ key: resetKey, stack: [...stack, nextCursor] }),
    [resetKey, stack],
  );
  const previous = useCallback(() => setState({ key: resetKey, stack: stack.slice(0, -1) }), [resetKey, stack]);
  return { cursor, page: stack.length, next, previous };
}

export function Pager({
  page,
  nextCursor,
  onNext,
  onPrevious,
}: {
  page: number;
  nextCursor: string | undefined;
  onNext: (cursor: string) => void;
  onPrevious: () => void;
}) {
  if (page === 1 && !nextCursor) {
    return null;
  }
  return (
    <Group justify="space-between" mt="sm">
      <Button variant="default" size="xs" disabled={page === 1} onClick={onPrevious}>
        Previous
      </Button>
      <Text size="sm" c="dimmed">
        Page {page}
      </Text>
      <Button variant="default" size="xs" disabled={!nextCursor} onClick={() => nextCursor && onNext(nextCursor)}>
        Next
      </Button>
    </Group>
  );
}
