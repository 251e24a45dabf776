namespace Dsl.Devices.Cpu;

public sealed partial class CpuDevice
{
    protected override void EmbeddingCore(Tensor ids, Tensor weight, Tensor y, Tensor status, int num, int dim)
    {
        var id = L(ids);
        var w = F(weight);
        var ys = F(y);
        for (int p = 0; p < id.Length; p++)
        {
            long row = CheckId(id[p], p, num);
            w.Slice((int)row * dim, dim).CopyTo(ys.Slice(p * dim, dim));
        }
        I(status)[0] = 0;
    }

    protected override void EmbeddingBackwardCore(Tensor ids, Tensor dy, Tensor dweight, int num, int dim, int paddingIdx)
    {
        var id = L(ids);
        var g = F(dy);
        var dw = F(dweight);
        // Sequential in position order, so repeated ids add up in a fixed order (deterministic, as the reference).
        for (int p = 0; p < id.Length; p++)
        {
            long row = CheckId(id[p], p, num);
            if (row != paddingIdx)
            {
                var target = dw.Slice((int)row * dim, dim);
                System.Numerics.Tensors.TensorPrimitives.Add(target, g.Slice(p * dim, dim), target);
            }
        }
    }

    private static long CheckId(long id, int position, int num)
    {
        if (id < 0 || id >= num)
        {
            throw new ArgumentOutOfRangeException(nameof(id), $"{nameof(Embedding)}: id {id} at position {position} is outside the {num} rows of the table.");
        }
        return id;
    }
}
