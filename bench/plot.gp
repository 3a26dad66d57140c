# Plots tok/s vs prompt length for pocket and llama.cpp from bench/compare_llama.mjs --csv output.
# gnuplot -e "csv='bench/e2b-q4_0-sweep.csv'; out='bench/e2b-q4_0-sweep.png'; title='...'" bench/plot.gp
set datafile separator ","
set terminal png size 900,520 font ",11"
set output out
set title title
set xlabel "prompt length (tokens)"
set ylabel "tokens / second"
set logscale x 2
set key top left
set grid
plot csv using 1:2 skip 1 with linespoints lw 2 pt 7 title "pocket prefill", \
     csv using 1:3 skip 1 with linespoints lw 2 pt 5 title "llama.cpp prefill", \
     csv using 1:4 skip 1 with linespoints lw 2 pt 7 dt 2 title "pocket decode", \
     csv using 1:5 skip 1 with linespoints lw 2 pt 5 dt 2 title "llama.cpp decode"
