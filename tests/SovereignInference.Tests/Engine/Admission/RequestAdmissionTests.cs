using SovereignInference.Engine.Admission;
using SovereignInference.Engine.Errors;

namespace SovereignInference.Tests.Engine.Admission;

/// <summary>A request's keep_alive as admission reads it (the rest of admission runs on the real engine in Hosting/ and Scheduling/ tests).</summary>
public sealed class RequestAdmissionTests
{
    [Fact]
    public void No_keep_alive_means_the_models_own() => Assert.Null(RequestAdmission.ParseKeepAlive(null));

    [Theory]
    [InlineData("10m", 600)]
    [InlineData("45", 45)]
    [InlineData("0", 0)]
    public void A_duration_or_seconds_is_the_requests_keep_alive(string text, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), RequestAdmission.ParseKeepAlive(text));

    [Fact]
    public void A_negative_keep_alive_keeps_the_model_loaded() =>
        Assert.Equal(Timeout.InfiniteTimeSpan, RequestAdmission.ParseKeepAlive("-1"));

    [Fact]
    public void A_malformed_keep_alive_is_an_invalid_argument_naming_the_field()
    {
        var error = Assert.Throws<EngineException>(() => RequestAdmission.ParseKeepAlive("soon"));
        Assert.Equal((EngineErrorCode.InvalidArgument, "keep_alive"), (error.Code, error.Param));
    }
}
