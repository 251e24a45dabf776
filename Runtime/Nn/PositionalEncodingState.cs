namespace Dsl;

/// <summary>
/// The sinusoidal positional encoding of one <c>PositionalEncoding</c> layer (Vaswani et al. 2017, section 3.5):
/// a table PE [maxLen, d] with PE(pos, 2i) = sin(pos / 10000^(2i/d)) and PE(pos, 2i+1) = cos(pos / 10000^(2i/d)), computed
/// once in double precision; <see cref="Forward"/> adds its first T rows to every sample of [N,T,d], then applies dropout.
/// </summary>
public sealed class PositionalEncodingState
{
    private readonly Device _device;
    private readonly Tensor _table;
    private readonly ViewCache _views = new();
    private readonly SymbolicSlot _sum, _mask;
    private bool _dropped;

    public PositionalEncodingState(Device device, int maxLen, int dModel, float dropout)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (maxLen < 1 || dModel < 1 || !(dropout >= 0f && dropout < 1f))
        {
            throw new ArgumentException($"PositionalEncoding: maxLen {maxLen} and width {dModel} must be positive and the dropout {dropout} in [0, 1).");
        }
        _device = device;
        MaxLen = maxLen;
        DModel = dModel;
        Dropout = dropout;
        _table = Tensor.From(Table(maxLen, dModel), device, maxLen, dModel);
        _sum = new SymbolicSlot(device);
        _mask = new SymbolicSlot(device);
    }

    public int MaxLen { get; }

    public int DModel { get; }

    public float Dropout { get; }

    /// <summary>The table [maxLen, d], row-major: the course's formula.</summary>
    public static float[] Table(int maxLen, int dModel)
    {
        var table = new float[(long)maxLen * dModel];
        for (int pos = 0; pos < maxLen; pos++)
        {
            for (int j = 0; j < dModel; j++)
            {
                int twoI = j - (j % 2);
                double angle = pos / Math.Pow(10000.0, (double)twoI / dModel);
                table[(long)pos * dModel + j] = (float)(j % 2 == 0 ? Math.Sin(angle) : Math.Cos(angle));
            }
        }
        return table;
    }

    /// <summary>
    /// y = dropout(x + PE[:T]) for x [N,T,d]; a T beyond maxLen is refused, naming <paramref name="network"/> and both lengths.
    /// </summary>
    public void Forward(Tensor x, bool training, ulong seed, Tensor y, string network)
    {
        if (x.Rank != 3 || x.Dims[2] != DModel)
        {
            throw new ArgumentException($"{network}: PositionalEncoding expects [N,T,{DModel}] but receives {Tensor.FormatShape(x.Dims)}.");
        }
        int n = x.Dims[0], t = x.Dims[1];
        if (t > MaxLen)
        {
            throw new ArgumentException($"{network}: PositionalEncoding(maxLen: {MaxLen}) receives a sequence of length T = {t}; it encodes at most {MaxLen} positions (raise maxLen).");
        }
        var rows = _views.Find(_table, t) ?? _views.Add(_table, t, _table.Narrow(0, 0, t).View(1, t, DModel));
        _dropped = training && Dropout > 0f;
        if (!_dropped)
        {
            _device.Broadcast(BinaryOp.Add, x, rows, y);
            return;
        }
        var sum = _sum.Rows(n, t, DModel);
        _device.Broadcast(BinaryOp.Add, x, rows, sum);
        _device.Dropout(sum, _mask.Rows(n, t, DModel), y, Dropout, seed, group: 1);
    }

    /// <summary>dx (+)= the gradient of <see cref="Forward"/>: dy through the dropout mask (the table is a constant).</summary>
    public void Backward(Tensor dy, Tensor dx, bool accumulate)
        => _device.DropoutBackward(dy, _dropped ? _mask.Rows(dy.Dims[0], dy.Dims[1], DModel) : null, dx, accumulate);
}
