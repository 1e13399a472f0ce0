using System.Numerics;
using System.Runtime.CompilerServices;

namespace SovereignInference.Engine.Sampling;

/// <summary>
/// Partial selection of the largest values of a vocabulary-sized span with a bounded min-heap:
/// O(n log k) worst case, close to O(n) in practice because whole vector blocks that cannot enter the heap are skipped.
/// </summary>
internal static class TopSelector
{
    /// <summary>
    /// Writes into <paramref name="indices"/> the ids of up to <paramref name="count"/> values strictly greater than
    /// <paramref name="floor"/> (NaN never qualifies), ordered by value descending, ties by index ascending.
    /// </summary>
    /// <returns>The number of indices written (less than <paramref name="count"/> when fewer values qualify).</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int SelectSorted(ReadOnlySpan<float> values, int count, float floor, Span<int> indices)
    {
        if (count <= 0)
        {
            return 0;
        }

        var heap = indices[..count];
        var size = 0;
        var i = 0;
        var n = values.Length;

        // Fill phase: until the heap is full every qualifying value enters.
        for (; i < n && size < count; i++)
        {
            if (values[i] > floor)
            {
                heap[size] = i;
                SiftUp(values, heap, size);
                size++;
            }
        }

        if (size == count)
        {
            var threshold = values[heap[0]];
            if (Vector.IsHardwareAccelerated)
            {
                // Align the scalar cursor to a block boundary, then skip blocks that are entirely no better than the root.
                for (; i < n && i % Vector<float>.Count != 0; i++)
                {
                    if (values[i] > threshold)
                    {
                        heap[0] = i;
                        SiftDown(values, heap, 0, size);
                        threshold = values[heap[0]];
                    }
                }

                for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
                {
                    var block = new Vector<float>(values[i..]);
                    if (Vector.LessThanOrEqualAll(block, new Vector<float>(threshold)))
                    {
                        continue;
                    }

                    for (var j = i; j < i + Vector<float>.Count; j++)
                    {
                        if (values[j] > threshold)
                        {
                            heap[0] = j;
                            SiftDown(values, heap, 0, size);
                            threshold = values[heap[0]];
                        }
                    }
                }
            }

            for (; i < n; i++)
            {
                // Later indices lose ties, so only strictly larger values displace the root.
                if (values[i] > threshold)
                {
                    heap[0] = i;
                    SiftDown(values, heap, 0, size);
                    threshold = values[heap[0]];
                }
            }
        }

        // Heap-sort: repeatedly move the worst remaining element to the end, leaving best-first order.
        for (var end = size - 1; end > 0; end--)
        {
            (heap[0], heap[end]) = (heap[end], heap[0]);
            SiftDown(values, heap, 0, end);
        }

        return size;
    }

    /// <summary>True when the element at index <paramref name="a"/> ranks below the one at <paramref name="b"/>.</summary>
    private static bool Worse(ReadOnlySpan<float> values, int a, int b)
    {
        var va = values[a];
        var vb = values[b];
        return va < vb || (va == vb && a > b);
    }

    private static void SiftUp(ReadOnlySpan<float> values, Span<int> heap, int pos)
    {
        var item = heap[pos];
        while (pos > 0)
        {
            var parent = (pos - 1) >> 1;
            if (!Worse(values, item, heap[parent]))
            {
                break;
            }

            heap[pos] = heap[parent];
            pos = parent;
        }

        heap[pos] = item;
    }

    private static void SiftDown(ReadOnlySpan<float> values, Span<int> heap, int pos, int size)
    {
        var item = heap[pos];
        while (true)
        {
            var child = (2 * pos) + 1;
            if (child >= size)
            {
                break;
            }

            if (child + 1 < size && Worse(values, heap[child + 1], heap[child]))
            {
                child++;
            }

            if (!Worse(values, heap[child], item))
            {
                break;
            }

            heap[pos] = heap[child];
            pos = child;
        }

        heap[pos] = item;
    }
}
