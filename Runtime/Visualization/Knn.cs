using System.Numerics.Tensors;
using Dsl.Devices.Cpu;

namespace Dsl.Visualization;

/// <summary>
/// Exact k-nearest-neighbour search by brute force (Euclidean distance) over the rows of an <c>[N, D]</c> matrix, and
/// the leave-one-out k-NN classification accuracy that measures how well an embedding keeps a data set's classes apart.
/// Brute force is exact and, for the few thousand points of a t-SNE plot, a second or less: <c>N^2 D</c> work split
/// over threads by rows, each row independent, so the result does not depend on the thread count.
/// </summary>
public static class Knn
{
    /// <summary>
    /// The <paramref name="k"/> nearest other points of every row of <paramref name="points"/> (<c>[n, d]</c>, row-major),
    /// nearest first; equal distances are ordered by index, so the graph is deterministic.
    /// </summary>
    public static KnnGraph Neighbors(float[] points, int n, int d, int k, int threads = 0)
    {
        Validate(points, n, d);
        if (k < 1 || k > n - 1)
        {
            throw new ArgumentOutOfRangeException(nameof(k), $"k = {k} neighbours need 1 <= k <= N - 1 = {n - 1}.");
        }
        var graph = new KnnGraph(n, k);
        var job = new NeighborJob(points, d, n, k, graph.Indices, graph.SquaredDistances);
        ForkJoin.Run(n, Parts(n, threads), ref job);
        return graph;
    }

    /// <summary>
    /// Leave-one-out k-NN accuracy: each point is classified by the majority label of its <paramref name="k"/> nearest
    /// other points (a tie goes to the tied label held by the nearest of them), and the fraction classified as their own
    /// label is returned. In an embedding, compare it with the same figure in the original feature space.
    /// </summary>
    public static double LeaveOneOutAccuracy(float[] points, int n, int d, int[] labels, int k = 5, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Length != n)
        {
            throw new ArgumentException($"{labels.Length} labels for {n} points.", nameof(labels));
        }
        var graph = Neighbors(points, n, d, k, threads);
        int classes = 0;
        foreach (int label in labels)
        {
            if (label < 0)
            {
                throw new ArgumentException($"Labels must be 0 or more, got {label}.", nameof(labels));
            }
            classes = Math.Max(classes, label + 1);
        }
        var votes = new int[classes];
        int correct = 0;
        for (int i = 0; i < n; i++)
        {
            Array.Clear(votes);
            var row = graph.Row(i);
            int best = 0;
            foreach (int j in row)
            {
                best = Math.Max(best, ++votes[labels[j]]);
            }
            // The nearest neighbour whose label has the most votes decides a tie.
            foreach (int j in row)
            {
                if (votes[labels[j]] == best)
                {
                    correct += labels[j] == labels[i] ? 1 : 0;
                    break;
                }
            }
        }
        return correct / (double)n;
    }

    internal static void Validate(float[] points, int n, int d)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (n < 2 || d < 1)
        {
            throw new ArgumentException($"Need at least 2 points of at least 1 dimension, got N = {n}, D = {d}.");
        }
        if ((long)n * d != points.Length)
        {
            throw new ArgumentException($"A [{n}, {d}] matrix holds {(long)n * d} values but {points.Length} were given.", nameof(points));
        }
        if (!TensorPrimitives.IsFiniteAll(points))
        {
            throw new ArgumentException("The points hold a NaN or an infinity.", nameof(points));
        }
    }

    internal static int Parts(int n, int threads)
        => Math.Max(1, Math.Min(threads <= 0 ? Environment.ProcessorCount : threads, n / 64 + 1));

    /// <summary>Squared Euclidean distance: the SIMD path for long rows, a plain loop for the 2-D of an embedding.</summary>
    internal static float SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length >= 16)
        {
            float distance = TensorPrimitives.Distance(a, b);
            return distance * distance;
        }
        float sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            float t = a[i] - b[i];
            sum += t * t;
        }
        return sum;
    }

    private readonly struct NeighborJob(float[] points, int d, int n, int k, int[] indices, float[] distances) : IRangeJob
    {
        public void Run(int start, int end)
        {
            // A max-heap of the k best so far: its root is the worst kept candidate, the one a nearer point replaces.
            var heapIndex = new int[k];
            var heapDistance = new float[k];
            for (int i = start; i < end; i++)
            {
                var x = points.AsSpan(i * d, d);
                int size = 0;
                for (int j = 0; j < n; j++)
                {
                    if (j == i)
                    {
                        continue;
                    }
                    float s = SquaredDistance(x, points.AsSpan(j * d, d));
                    if (size < k)
                    {
                        heapIndex[size] = j;
                        heapDistance[size] = s;
                        SiftUp(heapIndex, heapDistance, size++);
                    }
                    else if (Worse(heapDistance[0], heapIndex[0], s, j))
                    {
                        heapIndex[0] = j;
                        heapDistance[0] = s;
                        SiftDown(heapIndex, heapDistance, k);
                    }
                }
                // Pop the heap from the back: worst first, so the row comes out nearest first.
                for (int m = k - 1; m >= 0; m--)
                {
                    indices[i * k + m] = heapIndex[0];
                    distances[i * k + m] = heapDistance[0];
                    heapIndex[0] = heapIndex[m];
                    heapDistance[0] = heapDistance[m];
                    SiftDown(heapIndex, heapDistance, m);
                }
            }
        }

        /// <summary>Whether candidate (da, ia) ranks after (db, ib): farther, or as far with a larger index.</summary>
        private static bool Worse(float da, int ia, float db, int ib) => da > db || (da == db && ia > ib);

        private static void SiftUp(int[] index, float[] distance, int at)
        {
            while (at > 0)
            {
                int parent = (at - 1) / 2;
                if (!Worse(distance[at], index[at], distance[parent], index[parent]))
                {
                    return;
                }
                Swap(index, distance, at, parent);
                at = parent;
            }
        }

        private static void SiftDown(int[] index, float[] distance, int size)
        {
            int at = 0;
            while (true)
            {
                int worst = at, left = 2 * at + 1, right = left + 1;
                if (left < size && Worse(distance[left], index[left], distance[worst], index[worst]))
                {
                    worst = left;
                }
                if (right < size && Worse(distance[right], index[right], distance[worst], index[worst]))
                {
                    worst = right;
                }
                if (worst == at)
                {
                    return;
                }
                Swap(index, distance, at, worst);
                at = worst;
            }
        }

        private static void Swap(int[] index, float[] distance, int a, int b)
        {
            (index[a], index[b]) = (index[b], index[a]);
            (distance[a], distance[b]) = (distance[b], distance[a]);
        }
    }
}
