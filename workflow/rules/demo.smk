# Demo data: the simulator writes raw SurfaceLab exports of a demo study when they are absent.


rule simulate_demo_sample:
    output:
        raw=directory("data/demo/{simulated}/raw/{sample}"),
        truth="data/demo/{simulated}/truth/{sample}.parquet",
    log:
        "logs/{simulated}/simulate/{sample}.log",
    conda:
        "../../envs/io.yaml"
    params:
        code=script_code("simulate_sample"),
        design=demo_design,
        seed=demo_seed,
    script:
        "../scripts/simulate_sample.py"
